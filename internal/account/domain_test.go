package account_test

import (
	"testing"

	"roster.dev/roster/internal/account"
)

// TestNormalizeDomain: a domain is stored in ASCII lower case (IDNA), with at least
// two labels; addresses, URLs, IP addresses, bad labels and public mail providers'
// domains (and their subdomains) are refused naming the field.
func TestNormalizeDomain(t *testing.T) {
	for in, want := range map[string]string{
		"acme.com": "acme.com", " ACME.Com. ": "acme.com", "eu.acme.co.uk": "eu.acme.co.uk",
		"bücher.example": "xn--bcher-kva.example", "XN--BCHER-KVA.example": "xn--bcher-kva.example",
		"a-b.example": "a-b.example", "gmail.co": "gmail.co", // a look-alike is not the provider
	} {
		got, err := account.NormalizeDomain("domain", in)
		if err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "com", "localhost", "10.0.0.1", "::1", "[2001:db8::1]", "a@acme.com", "http://acme.com",
		"acme.com/x", "acme..com", ".acme.com", "-a.com", "a-.com", "a_b.com", "a b.com", "acme.42",
		"gmail.com", "GMAIL.COM", "eu.gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me",
		"gmx.net", "gmx.de", "mail.ru", "yandex.ru", "qq.com", "163.com", "\x00acme.com"} {
		if got, err := account.NormalizeDomain("domain", in); account.ErrorCode(err) != account.EINVALID || !fieldNamed(err, "domain") {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want a validation error naming domain", in, got, err)
		}
	}
	for email, want := range map[string]string{"ann@Acme.COM": "acme.com", "b@bücher.example": "xn--bcher-kva.example", "nobody": ""} {
		if got := account.EmailDomain(email); got != want {
			t.Errorf("EmailDomain(%q) = %q, want %q", email, got, want)
		}
	}
}

func fieldNamed(err error, field string) bool {
	e, ok := account.AsError(err)
	if !ok {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
