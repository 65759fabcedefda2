package aztable_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/aztable"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/storetest"
)

const connEnv = "AZURE_TABLES_TEST_CONNECTION"

// TestStore runs the conformance suite against a real Table service,
// normally Azurite from scripts/azurite.sh. Each subtest gets its own table.
func TestStore(t *testing.T) {
	conn := connection(t)
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return newStore(t, conn, aztable.WithClock(now))
	})
}

// TestLazyTable: the table does not exist until the first operation, and
// many first operations at once must all get through its creation.
func TestLazyTable(t *testing.T) {
	s := newStore(t, connection(t))
	errs := make(chan error, 10)
	for i := range cap(errs) {
		go func() { errs <- s.CreateClient(t.Context(), store.Client{ID: fmt.Sprint("c", i)}) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("CreateClient on a new table = %v", err)
		}
	}
}

func connection(t *testing.T) string {
	conn := os.Getenv(connEnv)
	if conn == "" {
		t.Skipf("%s is not set; to run against Azurite:\n"+
			"\texport %s=\"$(scripts/azurite.sh)\"\n"+
			"\tgo test ./handler/internal/store/aztable/", connEnv, connEnv)
	}
	return conn
}

// newStore returns a store on a fresh table with a random name, dropped
// when the test ends.
func newStore(t *testing.T, conn string, opts ...aztable.Option) *aztable.Store {
	table := "storetest" + rand.Text()[:16]
	s, err := aztable.NewFromConnectionString(conn, table, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Not t.Context(): it is cancelled before cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := aztable.DeleteTable(s, ctx); err != nil {
			t.Logf("delete table %s: %v", table, err)
		}
	})
	return s
}

// closedPort returns a local port nobody listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// silentPort returns a local port that accepts connections and never
// answers, like a hung service.
func silentPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// TestUnavailable: storage that is down or hung must fail fast with
// ErrUnavailable (handlers answer 503), never hang (docs/architecture.md
// §13).
func TestUnavailable(t *testing.T) {
	const timeout = 500 * time.Millisecond
	tests := []struct {
		name string
		port int
	}{
		{"refused", closedPort(t)},
		{"hung", silentPort(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"+
				"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"+
				"TableEndpoint=http://127.0.0.1:%d/devstoreaccount1;", tt.port)
			s, err := aztable.NewFromConnectionString(conn, "unavailable", aztable.WithTimeout(timeout))
			if err != nil {
				t.Fatal(err)
			}
			ops := []struct {
				name string
				run  func() error
			}{
				{"GetClient", func() error { _, err := s.GetClient(t.Context(), "c"); return err }},
				{"TakeCode", func() error { _, err := s.TakeCode(t.Context(), "c"); return err }},
				{"CreateGrant", func() error { return s.CreateGrant(t.Context(), store.Grant{ID: "g"}) }},
				{"DeleteExpired", func() error { _, _, err := s.DeleteExpired(t.Context(), time.Now(), "", 100); return err }},
				{"AcquireLease", func() error {
					_, err := s.AcquireLease(t.Context(), "purge", "i", time.Now(), time.Now().Add(time.Minute))
					return err
				}},
				{"Increment", func() error { _, err := s.Increment(t.Context(), "k", time.Now().Add(time.Hour)); return err }},
			}
			for _, op := range ops {
				start := time.Now()
				err := op.run()
				took := time.Since(start)
				if !errors.Is(err, store.ErrUnavailable) {
					t.Errorf("%s = %v, want %v", op.name, err, store.ErrUnavailable)
				}
				if took > timeout+time.Second {
					t.Errorf("%s took %v, want at most about %v", op.name, took, timeout)
				}
			}
		})
	}
}
