package aztable

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// The grant indexes: for every grant a row in partition "usergrant" and one
// in "clientgrant", RowKey "<rowKey(subject or client id)>~<rowKey(grant
// id)>", so a user's (or a client's) grants are one range query inside one
// partition instead of a scan of every grant. "~" sorts after every
// character of a plain key and occurs in a hashed key only as its first
// character, so the range "<key>~" to "<key>~~" holds exactly that key's
// rows. Each row carries the grant's ExpiresAt, so the purge removes it
// with its grant.

func indexRow(owner, grantID string) string { return rowKey(owner) + "~" + rowKey(grantID) }

// indexEntities are the two index rows of g.
func indexEntities(g store.Grant) ([][]byte, error) {
	var out [][]byte
	for _, ix := range []struct{ kind, owner string }{{kindUserGrant, g.Subject}, {kindClientGrant, g.ClientID}} {
		p := newProps()
		p.str("GrantID", g.ID)
		p.time("ExpiresAt", g.ExpiresAt)
		if p.err != nil {
			return nil, p.err
		}
		b, err := json.Marshal(aztables.EDMEntity{
			Entity:     aztables.Entity{PartitionKey: ix.kind, RowKey: indexRow(ix.owner, g.ID)},
			Properties: p.m,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (s *Store) putGrantIndex(ctx context.Context, g store.Grant) error {
	rows, err := indexEntities(g)
	for _, b := range rows {
		if err = s.put(ctx, b, err); err != nil {
			return err
		}
	}
	return err
}

func (s *Store) deleteGrantIndex(ctx context.Context, g store.Grant) error {
	for _, ix := range []struct{ kind, owner string }{{kindUserGrant, g.Subject}, {kindClientGrant, g.ClientID}} {
		tctx, cancel := s.withTimeout(ctx)
		err := s.call(tctx, func(ctx context.Context) error {
			_, err := s.client.DeleteEntity(ctx, ix.kind, indexRow(ix.owner, g.ID), nil)
			return err
		})
		cancel()
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// grantListProps is every grant property but Upstream.
const grantListProps = "ID,ClientID,Subject,Name,Username,TenantID,Scope,Resource,UpstreamExpiresAt,RedirectURI,CreatedAt,LastUsedAt,ExpiresAt"

// ListGrants reads the user's or the client's index range and then each
// grant it names (point reads, a few at a time); with neither it scans the
// grant partition, which only the operator's grants command asks for.
func (s *Store) ListGrants(ctx context.Context, q store.GrantQuery) ([]store.Grant, error) {
	if q.Subject == "" && q.ClientID == "" {
		return s.scanGrants(ctx)
	}
	kind, owner := kindUserGrant, q.Subject
	if owner == "" {
		kind, owner = kindClientGrant, q.ClientID
	}
	prefix := rowKey(owner) + "~"
	filter := "PartitionKey eq '" + kind + "' and RowKey ge '" + prefix + "' and RowKey lt '" + prefix + "~'"
	var ids []string
	err := s.query(ctx, filter, "GrantID", func(f *fields) error {
		ids = append(ids, f.str("GrantID"))
		return f.err
	})
	if err != nil {
		return nil, err
	}
	return s.readGrants(ctx, ids, q)
}

// readGrants point-reads the grants, eight at a time, and keeps those q
// matches. A grant that is gone leaves a stale index row, deleted here.
func (s *Store) readGrants(ctx context.Context, ids []string, q store.GrantQuery) ([]store.Grant, error) {
	var (
		mu    sync.Mutex
		out   []store.Grant
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 8)
	)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			g, err := s.GetGrant(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, store.ErrNotFound):
				stale := store.Grant{ID: id, Subject: q.Subject, ClientID: q.ClientID}
				_ = s.deleteGrantIndex(ctx, stale) // best effort: the purge removes it at its expiry anyway
			case err != nil:
				if first == nil {
					first = err
				}
			case (q.Subject == "" || g.Subject == q.Subject) && (q.ClientID == "" || g.ClientID == q.ClientID):
				g.Upstream, g.ETag = nil, ""
				out = append(out, g)
			}
		}()
	}
	wg.Wait()
	return out, first
}

// scanGrants lists every live grant.
func (s *Store) scanGrants(ctx context.Context) ([]store.Grant, error) {
	var out []store.Grant
	err := s.query(ctx, "PartitionKey eq '"+kindGrant+"'", grantListProps, func(f *fields) error {
		g, err := decodeGrant(f)
		if err == nil && !s.expired(g.ExpiresAt) {
			out = append(out, g)
		}
		return err
	})
	return out, err
}

// query calls each for every entity filter matches, page by page; each
// page gets the operation timeout and ctx bounds the whole.
func (s *Store) query(ctx context.Context, filter, sel string, each func(*fields) error) error {
	pager := s.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter, Select: &sel})
	for pager.More() {
		tctx, cancel := s.withTimeout(ctx)
		page, err := pager.NextPage(tctx)
		cancel()
		if hasCode(err, aztables.TableNotFound) {
			return nil // no table yet: nothing stored
		}
		if err != nil {
			return mapError(err)
		}
		for _, raw := range page.Entities {
			f, err := decodeFields(raw)
			if err != nil {
				return err
			}
			if err := each(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) PutClientBlock(ctx context.Context, b store.ClientBlock) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	p := newProps()
	p.str("ClientID", b.ClientID)
	p.str("Reason", b.Reason)
	p.time("CreatedAt", b.CreatedAt)
	e, err := p.entity(kindBlock, b.ClientID)
	return s.put(ctx, e, err)
}

func (s *Store) GetClientBlock(ctx context.Context, clientID string) (store.ClientBlock, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, _, err := s.get(ctx, kindBlock, clientID, "ClientID")
	if err != nil {
		return store.ClientBlock{}, err
	}
	b := store.ClientBlock{ClientID: f.str("ClientID"), Reason: f.str("Reason"), CreatedAt: f.time("CreatedAt")}
	return b, f.err
}

func (s *Store) DeleteClientBlock(ctx context.Context, clientID string) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	return s.del(ctx, kindBlock, clientID)
}
