// Package aztable is the store.Store on Azure Table Storage (Azurite
// locally), the state every Functions instance shares (docs/architecture.md
// §7.3).
//
// One table holds everything, laid out for Table Storage's scalability
// targets (layout.go): every record its own partition, a grant's refresh
// tokens in the grant's, and an index of partitions by hour of expiry for
// the purge. Every lookup is a point read. Table Storage has no TTL, so
// reads check ExpiresAt and DeleteExpired purges (docs/architecture.md
// §7.2). Single use and rotation rely on ETags: a Take is a read plus a
// write with If-Match that marks the record taken, an update is a replace
// with If-Match, so of two racing callers the service lets exactly one
// through. Faults the service answers under load are retried within a
// budget, and a retried write recognises its own earlier try (retry.go).
package aztable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store backed by one table. It is safe for concurrent use
// and holds no state of its own beyond configuration, so any number of
// instances can share the table.
type Store struct {
	client  *aztables.Client
	now     func() time.Time
	timeout time.Duration
	copts   *aztables.ClientOptions
	rt      http.RoundTripper // WithTransport
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that reads compare ExpiresAt with (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithTimeout bounds each operation, retries included (default 5 s). When it
// runs out the operation fails with an error wrapping store.ErrUnavailable.
func WithTimeout(d time.Duration) Option { return func(s *Store) { s.timeout = d } }

// WithClientOptions replaces the SDK options the client is built with
// (default: the retries of retryOptions). The store adds its try counter
// to them.
func WithClientOptions(o *aztables.ClientOptions) Option { return func(s *Store) { s.copts = o } }

// WithTransport sends the store's requests through rt (the tracing
// transport, package telemetry) instead of the SDK's own.
func WithTransport(rt http.RoundTripper) Option { return func(s *Store) { s.rt = rt } }

// options are the SDK options of s's client: clientOptions of its
// WithClientOptions, through its WithTransport.
func (s *Store) options() *aztables.ClientOptions {
	o := clientOptions(s.copts)
	if s.rt != nil {
		o.Transport = &http.Client{Transport: s.rt}
	}
	return o
}

// newStore applies opts. The constructors make no network call: the table
// is created by the first operation that finds it missing, so a cold start
// costs nothing (docs/architecture.md §14).
func newStore(opts []Option) *Store {
	s := &Store{now: time.Now, timeout: 5 * time.Second}
	for _, o := range opts {
		o(s)
	}
	return s
}

// NewFromConnectionString returns a Store on table in the account of a
// storage connection string with an account key, such as Azurite's
//
//	DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=…;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;
//
// "UseDevelopmentStorage=true" is accepted too and means Azurite on its
// default port: the SDK's parser requires AccountName and does not know it
// (docs/architecture.md §7.3).
func NewFromConnectionString(connStr, table string, opts ...Option) (*Store, error) {
	s := newStore(opts)
	svc, err := aztables.NewServiceClientFromConnectionString(expandConnectionString(connStr), s.options())
	if err != nil {
		return nil, fmt.Errorf("aztable: %w", err)
	}
	s.client = svc.NewClient(table)
	return s, nil
}

// NewFromEndpoint returns a Store on table at a Table service endpoint,
// such as https://<account>.table.core.windows.net, authorised with an
// Entra token (in Azure: the app's managed identity with the Storage Table
// Data Contributor role). The SDK sends tokens only over https, so Azurite
// needs NewFromConnectionString.
func NewFromEndpoint(endpoint, table string, cred azcore.TokenCredential, opts ...Option) (*Store, error) {
	s := newStore(opts)
	c, err := aztables.NewClient(strings.TrimSuffix(endpoint, "/")+"/"+table, cred, s.options())
	if err != nil {
		return nil, fmt.Errorf("aztable: %w", err)
	}
	s.client = c
	return s, nil
}

// azuriteConnectionString is Azurite's well-known account (public, not a
// secret) on its default table port.
const azuriteConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

// expandConnectionString tidies what the SDK's strict parser rejects:
// UseDevelopmentStorage=true, blanks around parts, and empty parts.
func expandConnectionString(connStr string) string {
	var parts []string
	for _, p := range strings.Split(connStr, ";") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if strings.EqualFold(strings.ReplaceAll(p, " ", ""), "UseDevelopmentStorage=true") {
			return azuriteConnectionString
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ";")
}

// call runs one SDK request (f) and maps its error onto the store's. If the
// table does not exist yet it creates it and runs f once more: creating it
// lazily keeps start-up free of network calls.
func (s *Store) call(ctx context.Context, f func(context.Context) error) error {
	err := f(ctx)
	if hasCode(err, aztables.TableNotFound) {
		_, err = s.client.CreateTable(ctx, nil)
		if err == nil || hasCode(err, aztables.TableAlreadyExists) {
			err = f(ctx)
		}
	}
	return mapError(err)
}

// withTimeout gives one store operation its bounded wait.
func (s *Store) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// mapError turns SDK errors into the store's: 404 is ErrNotFound, 409 on an
// insert ErrAlreadyExists, 412 (If-Match failed) ErrConflict. Throttling,
// 5xx and anything that never got an answer (refused connection, timeout)
// are ErrUnavailable, which handlers answer with 503. Other 4xx are bugs or
// misconfiguration and stay plain errors.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	switch {
	case re.StatusCode == http.StatusNotFound:
		return store.ErrNotFound
	case re.StatusCode == http.StatusConflict && re.ErrorCode == string(aztables.EntityAlreadyExists):
		return store.ErrAlreadyExists
	case re.StatusCode == http.StatusPreconditionFailed:
		return store.ErrConflict
	case re.StatusCode == http.StatusRequestTimeout, re.StatusCode == http.StatusTooManyRequests,
		re.StatusCode >= 500:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return fmt.Errorf("aztable: %w", err)
}
