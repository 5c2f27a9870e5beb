// Package dnstest runs a DNS server of its own on loopback UDP for tests: it
// answers TXT queries from records the test sets, NXDOMAIN for any other name,
// and SERVFAIL while told to fail (github.com/miekg/dns).
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is a DNS server on 127.0.0.1, port chosen by the system.
type Server struct {
	srv *dns.Server

	mu      sync.Mutex
	txt     map[string][]string // by lower-case FQDN
	failing bool
	queries int
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{txt: map[string][]string{}}
	started := make(chan struct{})
	s.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: func() { close(started) }}
	go func() { _ = s.srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = s.srv.Shutdown() })
	return s
}

// Addr is the server's host:port (for --dns-resolver).
func (s *Server) Addr() string { return s.srv.PacketConn.LocalAddr().String() }

// SetTXT makes name (with or without the final dot) hold the TXT values; none
// removes it.
func (s *Server) SetTXT(name string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(values) == 0 {
		delete(s.txt, dns.Fqdn(strings.ToLower(name)))
		return
	}
	s.txt[dns.Fqdn(strings.ToLower(name))] = values
}

// Fail makes every answer SERVFAIL while on.
func (s *Server) Fail(on bool) {
	s.mu.Lock()
	s.failing = on
	s.mu.Unlock()
}

// Queries counts the questions asked so far.
func (s *Server) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	s.mu.Lock()
	s.queries++
	failing := s.failing
	var values []string
	found := false
	if len(r.Question) == 1 {
		values, found = s.txt[strings.ToLower(r.Question[0].Name)]
	}
	s.mu.Unlock()
	switch {
	case failing:
		m.Rcode = dns.RcodeServerFailure
	case !found:
		m.Rcode = dns.RcodeNameError
	case r.Question[0].Qtype == dns.TypeTXT:
		q := r.Question[0]
		for _, v := range values {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{v}})
		}
	}
	_ = w.WriteMsg(m)
}
