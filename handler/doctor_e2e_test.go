package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// The doctor command (handler/cmd/doctor) run as users run it, against the
// real local chain: the Entra emulator and the handler behind funchost.

// TestMain doubles as the browser the doctor opens for -sign-in: the test
// points $BROWSER at this test binary with DOCTOR_TEST_BROWSER_UPN set, and
// the binary then walks the consent page and the emulator's sign-in page
// like a person would, instead of running tests.
func TestMain(m *testing.M) {
	if upn := os.Getenv("DOCTOR_TEST_BROWSER_UPN"); upn != "" {
		if err := headlessSignIn(os.Args[len(os.Args)-1], upn, os.Getenv("DOCTOR_TEST_BROWSER_CA")); err != nil {
			fmt.Fprintln(os.Stderr, "headless browser:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// headlessSignIn follows authURL through /authorize, the consent page
// (approve), the emulator's sign-in page and /callback, and finally opens
// the client's redirect URI: the doctor's loopback listener.
func headlessSignIn(authURL, upn, caFile string) error {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	u, prev := authURL, start
	for range 12 {
		ref, err := url.Parse(u)
		if err != nil {
			return err
		}
		cur := prev.ResolveReference(ref) // Location may be relative
		u, prev = cur.String(), cur
		switch {
		case cur.Scheme == "http" && cur.Host != start.Host:
			// The MCP client's redirect URI: hand the answer to the doctor.
			resp, err := http.Get(u)
			if err != nil {
				return err
			}
			resp.Body.Close()
			return nil
		case cur.Scheme == "https":
			if u, err = entraemu.SignIn(hc, u, upn); err != nil {
				return err
			}
			continue
		case cur.Path == "/consent":
			if u, err = approveConsent(hc, cur); err != nil {
				return err
			}
			continue
		}
		resp, err := hc.Get(u)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			return fmt.Errorf("GET %s: %d %s", cur.Path, resp.StatusCode, body)
		}
		u = resp.Header.Get("Location")
	}
	return errors.New("too many redirects")
}

func approveConsent(hc *http.Client, page *url.URL) (string, error) {
	resp, err := hc.Get(page.String())
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"decision": {"approve"}}
	for _, m := range hiddenRE.FindAllStringSubmatch(string(body), -1) {
		form.Set(m[1], m[2])
	}
	origin := page.Scheme + "://" + page.Host
	req, _ := http.NewRequest(http.MethodPost, origin+"/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err = hc.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("consent answered %d", resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}

var (
	doctorOnce sync.Once
	doctorExe  string
	doctorErr  error
)

// doctorBinary builds the doctor command once per test run.
func doctorBinary(t *testing.T) string {
	t.Helper()
	binaries(t) // skips with -short, like every end-to-end test
	doctorOnce.Do(func() {
		doctorExe = filepath.Join(binDir, "doctor")
		if out, err := exec.Command("go", "build", "-o", doctorExe, "./cmd/doctor").CombinedOutput(); err != nil {
			doctorErr = fmt.Errorf("go build ./cmd/doctor: %v\n%s", err, out)
		}
	})
	if doctorErr != nil {
		t.Fatal(doctorErr)
	}
	return doctorExe
}

// runDoctor runs the doctor binary with env added and returns its output
// and exit code.
func runDoctor(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(doctorBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	t.Logf("doctor %s:\n%s", strings.Join(args, " "), out.String())
	return out.String(), cmd.ProcessState.ExitCode()
}

// checkLines returns the doctor's result lines by outcome word.
func checkLines(out, status string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, status+" ") {
			lines = append(lines, l)
		}
	}
	return lines
}
