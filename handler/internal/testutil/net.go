package testutil

import (
	"net"
	"testing"
)

// FreeAddr returns a loopback address with a port nothing listens on (it
// was free a moment ago; another process could take it, which loopback
// tests accept).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
