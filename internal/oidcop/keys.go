package oidcop

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sealbox"
)

// keyTTL is how long a process keeps the keys it read: a rotation by another
// process is signed with within this time (the JWKS serves the previous key, so
// tokens signed before still verify).
const keyTTL = time.Minute

// keyring reads the signing keys from the store (making the first one on first
// use) and keeps them for keyTTL.
type keyring struct {
	svc *account.Service
	kek *sealbox.Box // seals the stored private keys; nil: stored as they are
	now func() time.Time

	mu   sync.Mutex
	keys []*signingKey // current first
	read time.Time
}

// newKEK is the box sealing the private keys with the configured secret (nil for
// none). The stored form is sealbox's: "sealed:" + base64(nonce ‖ AES-256-GCM under
// SHA-256(secret), with "roster-oidc-key" as additional data).
func newKEK(secret string) *sealbox.Box { return sealbox.New(secret, "roster-oidc-key") }

func (k *keyring) current(ctx context.Context) (*signingKey, error) {
	ks, err := k.all(ctx)
	if err != nil {
		return nil, err
	}
	return ks[0], nil
}

func (k *keyring) all(ctx context.Context) ([]*signingKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys != nil && k.now().Sub(k.read) < keyTTL {
		return k.keys, nil
	}
	stored, err := k.svc.SigningKeys(ctx, k.generate)
	if err != nil {
		return nil, err
	}
	keys := make([]*signingKey, 0, len(stored))
	for _, s := range stored {
		sk, err := k.open(s)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", s.ID, err)
		}
		keys = append(keys, sk)
	}
	if len(keys) == 0 || stored[0].State != account.SigningKeyCurrent {
		return nil, errors.New("no current signing key")
	}
	k.keys, k.read = keys, k.now()
	return keys, nil
}

// forget drops what was read: the next use reads the store again.
func (k *keyring) forget() {
	k.mu.Lock()
	k.keys = nil
	k.mu.Unlock()
}

// generate makes a new ES256 key, sealed when a key encryption key is configured.
func (k *keyring) generate() (account.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return account.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return account.SigningKey{}, err
	}
	stored := base64.StdEncoding.EncodeToString(der)
	if k.kek != nil {
		if stored, err = k.kek.Seal(der); err != nil {
			return account.SigningKey{}, err
		}
	}
	return account.SigningKey{Algorithm: "ES256", PrivateKey: stored}, nil
}

// open reads a stored key.
func (k *keyring) open(s account.SigningKey) (*signingKey, error) {
	var der []byte
	if sealbox.Sealed(s.PrivateKey) {
		var err error
		if der, err = k.kek.Open(s.PrivateKey); err != nil {
			return nil, err
		}
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(s.PrivateKey); err != nil {
			return nil, err
		}
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || s.Algorithm != "ES256" {
		return nil, fmt.Errorf("unsupported key %s", s.Algorithm)
	}
	return &signingKey{id: s.ID, key: ec}, nil
}

// Rotate makes a new current signing key (roster keys rotate); the current one
// stays in the JWKS as the previous key.
func Rotate(ctx context.Context, svc *account.Service, keySecret string) (string, error) {
	k := &keyring{svc: svc, kek: newKEK(keySecret), now: time.Now}
	if _, err := k.all(ctx); err != nil { // the first key, if none yet; and the configured secret opens the others
		return "", err
	}
	nk, err := k.generate()
	if err != nil {
		return "", err
	}
	made, err := svc.RotateSigningKey(ctx, nk)
	return made.ID, err
}

func randRead(b []byte) (int, error) { return rand.Read(b) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
