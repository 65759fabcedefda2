package entraemu

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// newServingCert makes the self-signed TLS certificate. It is its own CA
// (BasicConstraints CA:true) so that it can be placed in a trust store as a
// root, which is how the handler trusts it (UPSTREAM_CA_FILE) and how Node or
// curl can be pointed at it.
func newServingCert() (tls.Certificate, []byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Entra emulator (local tests only)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}, pemBytes, nil
}

// LoadOrCreateServingCert keeps the serving certificate in dir (cert.pem,
// key.pem) across runs, so a browser or trust store that accepted it once
// keeps accepting it. A missing, unreadable or soon-expiring pair is
// replaced by a new one.
func LoadOrCreateServingCert(dir string) (tls.Certificate, error) {
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && c.Leaf != nil &&
		time.Until(c.Leaf.NotAfter) > 7*24*time.Hour && c.Leaf.IsCA {
		return c, nil
	}
	c, certPEM, err := newServingCert()
	if err != nil {
		return tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return c, nil
}

// CertPEM returns the serving certificate in PEM, for a trust store.
func (e *Emulator) CertPEM() []byte { return append([]byte(nil), e.certPEM...) }

// TLSConfig returns the server-side TLS configuration.
func (e *Emulator) TLSConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{e.cert}, MinVersion: tls.VersionTLS12}
}

// CertPool returns a pool holding only the emulator's certificate.
func (e *Emulator) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(e.cert.Leaf)
	return pool
}

// Client returns an HTTP client that trusts the emulator (and nothing else)
// and does not follow redirects, so tests can look at 302 answers.
func (e *Emulator) Client() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: e.CertPool(), MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// servingCert uses the configured certificate, or makes a new one.
func servingCert(c *tls.Certificate) (tls.Certificate, []byte, error) {
	if c == nil {
		return newServingCert()
	}
	if c.Leaf == nil {
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			return tls.Certificate{}, nil, err
		}
		c.Leaf = leaf
	}
	return *c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), nil
}
