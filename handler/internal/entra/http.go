package entra

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// NewHTTPClient returns the client used for every call to Entra and Graph.
// Every wait is bounded (docs/architecture.md §13). caFile, when set, adds
// PEM roots to the system pool (the local emulator's certificate);
// verification is never switched off.
//
// It loads nothing from the system's certificate store: reading it (every
// file under /etc/ssl/certs, ~15 ms here) cost more than the rest of
// start-up together, and the first request the process serves rarely goes
// upstream. Without caFile, RootCAs stays nil and crypto/tls loads the system
// roots at the first handshake; with caFile, the pool is built at the first
// request. The file itself is read and parsed here, so a bad one still stops
// the process at start.
func NewHTTPClient(caFile string) (*http.Client, error) {
	var rt http.RoundTripper = newTransport(nil)
	if caFile != "" {
		extra, err := readCertificates(caFile)
		if err != nil {
			return nil, err
		}
		rt = &lazyTransport{build: func() *http.Transport { return newTransport(systemRootsWith(extra)) }}
	}
	return &http.Client{Transport: rt, Timeout: 15 * time.Second}, nil
}

// newTransport is the transport behind NewHTTPClient; nil roots means the
// system's, loaded by crypto/tls when first needed.
func newTransport(roots *x509.CertPool) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}
}

// readCertificates parses every CERTIFICATE block of a PEM file.
func readCertificates(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read upstream CA file: %w", err)
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("upstream CA file %s: %w", file, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("upstream CA file %s holds no PEM certificate", file)
	}
	return certs, nil
}

// RootsWithCAFile is the system pool plus the PEM certificates of caFile,
// loaded now: for the command-line tools (the doctor, the APIM stand-in, the
// soak), where start-up cost does not matter. The handler itself uses
// NewHTTPClient, which defers the system pool to the first request.
func RootsWithCAFile(caFile string) (*x509.CertPool, error) {
	extra, err := readCertificates(caFile)
	if err != nil {
		return nil, err
	}
	return systemRootsWith(extra), nil
}

// systemRootsWith is the system pool plus extra (extra alone where the
// system has no pool).
func systemRootsWith(extra []*x509.Certificate) *x509.CertPool {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	for _, c := range extra {
		roots.AddCert(c)
	}
	return roots
}

// lazyTransport builds its transport on the first request.
type lazyTransport struct {
	build func() *http.Transport
	once  sync.Once
	t     atomic.Pointer[http.Transport]
}

func (l *lazyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	l.once.Do(func() { l.t.Store(l.build()) })
	return l.t.Load().RoundTrip(r)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport, if it was built.
func (l *lazyTransport) CloseIdleConnections() {
	if t := l.t.Load(); t != nil {
		t.CloseIdleConnections()
	}
}
