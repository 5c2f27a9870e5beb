// Package sealbox seals the secrets Roster stores but must read back (the signing
// keys of Sign in with Roster, the webhooks' signing secrets): AES-256-GCM under
// the SHA-256 of a passphrase the operator gives every process (--oidc-key-secret),
// with a random nonce and a context string as additional data, so that a value
// sealed for one use does not open as another. A sealed value is text:
// "sealed:" + base64(nonce ‖ ciphertext). Values without that prefix are read as
// they are (stored before a passphrase was set).
package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// Prefix starts every sealed value.
const Prefix = "sealed:"

// Box seals and opens values for one use. A nil *Box has no passphrase: it seals
// nothing, and opens only values that are not sealed.
type Box struct {
	aead    cipher.AEAD
	context []byte
}

// New is the box of passphrase for the use named by context; nil when passphrase is
// empty.
func New(passphrase, context string) *Box {
	if passphrase == "" {
		return nil
	}
	key := sha256.Sum256([]byte(passphrase))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always a valid AES key
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Box{aead: aead, context: []byte(context)}
}

// Sealed reports whether the stored value s is sealed.
func Sealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// Seal returns plain sealed; as it is without a passphrase, or when it is sealed
// already (so that sealing twice is sealing once).
func (b *Box) Seal(plain []byte) (string, error) {
	if b == nil {
		return string(plain), nil
	}
	if Sealed(string(plain)) {
		return string(plain), nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return Prefix + base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, plain, b.context)), nil
}

// ErrNoPassphrase: a sealed value, and no passphrase to open it with.
var ErrNoPassphrase = errors.New("sealbox: the value is sealed and no passphrase is configured (--oidc-key-secret)")

// ErrWrongPassphrase: the value does not open with this box's passphrase (or was
// sealed for another use, or was altered).
var ErrWrongPassphrase = errors.New("sealbox: the value does not open with the configured passphrase (--oidc-key-secret)")

// Open returns the value stored as s: s itself when it is not sealed.
func (b *Box) Open(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return []byte(s), nil
	}
	if b == nil {
		return nil, ErrNoPassphrase
	}
	sealed, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(sealed) < b.aead.NonceSize() {
		return nil, ErrWrongPassphrase
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], b.context)
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return plain, nil
}
