package oauth

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// cached returns a live cache entry (a document or a remembered failure)
// and marks it most recently used.
func (f *CIMDFetcher) cached(url string) (*cimdEntry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	el, ok := f.items[url]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cimdEntry)
	if !f.opts.Now().Before(e.expires) {
		f.lru.Remove(el)
		delete(f.items, url)
		return nil, false
	}
	f.lru.MoveToFront(el)
	return e, true
}

func (f *CIMDFetcher) remember(ctx context.Context, url string, c store.Client, err error, ttl time.Duration) {
	if err != nil {
		ttl = cimdNegativeTTL
		f.opts.Logger.InfoContext(ctx, "client metadata document rejected", slog.String("client_id", url), slog.Any("err", err))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := &cimdEntry{url: url, client: c, err: err, expires: f.opts.Now().Add(ttl)}
	if el, ok := f.items[url]; ok {
		el.Value = e
		f.lru.MoveToFront(el)
		return
	}
	f.items[url] = f.lru.PushFront(e)
	for f.lru.Len() > f.opts.CacheSize {
		old := f.lru.Remove(f.lru.Back()).(*cimdEntry)
		delete(f.items, old.url)
	}
}

// cloneClient keeps callers from mutating the cached slices.
func cloneClient(c store.Client) store.Client {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.ResponseTypes = slices.Clone(c.ResponseTypes)
	return c
}
