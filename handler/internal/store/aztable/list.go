package aztable

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// The grant indexes (layout.go): for every grant a row in the partition of
// its user, "usergrant-<user>", and one in the partition of its client,
// "clientgrant-<client>", RowKey the grant id, so a user's (or a client's)
// grants are one single-partition query instead of a scan of every grant.
// Each row carries the grant's ExpiresAt, so the expiry index lists its
// partition and the purge removes it with its grant.

func userGrantKeys(subject, grantID string) keys {
	return keys{kindUserGrant + "-" + rowKey(subject), rowKey(grantID)}
}

func clientGrantKeys(clientID, grantID string) keys {
	return keys{kindClientGrant + "-" + rowKey(clientID), rowKey(grantID)}
}

// isGrantIndex reports whether partition pk is a grant index's: its rows
// are not records (DeleteExpired does not count them).
func isGrantIndex(pk string) bool {
	return strings.HasPrefix(pk, kindUserGrant+"-") || strings.HasPrefix(pk, kindClientGrant+"-")
}

func (s *Store) putGrantIndex(ctx context.Context, g store.Grant) error {
	for _, k := range []keys{userGrantKeys(g.Subject, g.ID), clientGrantKeys(g.ClientID, g.ID)} {
		p := newProps()
		p.str("GrantID", g.ID)
		p.time("ExpiresAt", g.ExpiresAt)
		e, err := p.entity(k)
		tctx, cancel := s.withTimeout(ctx)
		err = s.put(tctx, e, err)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) deleteGrantIndex(ctx context.Context, g store.Grant) error {
	for _, k := range []keys{userGrantKeys(g.Subject, g.ID), clientGrantKeys(g.ClientID, g.ID)} {
		tctx, cancel := s.withTimeout(ctx)
		err := s.del(tctx, k)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// grantListProps is every grant property but Upstream.
const grantListProps = "ID,ClientID,Subject,Name,Username,TenantID,Scope,Resource,UpstreamExpiresAt,RedirectURI,CreatedAt,LastUsedAt,ExpiresAt"

// ListGrants reads the user's or the client's index partition and then
// each grant it names (point reads, a few at a time); with neither it
// scans the grants' partitions, which only the operator's grants command
// asks for.
func (s *Store) ListGrants(ctx context.Context, q store.GrantQuery) ([]store.Grant, error) {
	if q.Subject == "" && q.ClientID == "" {
		return s.scanGrants(ctx)
	}
	pk := userGrantKeys(q.Subject, "").pk
	if q.Subject == "" {
		pk = clientGrantKeys(q.ClientID, "").pk
	}
	var ids []string
	err := s.query(ctx, "PartitionKey eq "+quote(pk), "GrantID", func(f *fields) error {
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

// scanGrants lists every live grant: the grant rows of the "grant-…"
// partitions (whose other rows are refresh tokens).
func (s *Store) scanGrants(ctx context.Context) ([]store.Grant, error) {
	var out []store.Grant
	filter := "PartitionKey ge " + quote(kindGrant+"-") + " and PartitionKey lt " + quote(kindGrant+".") +
		" and RowKey eq " + quote(kindGrant)
	err := s.query(ctx, filter, grantListProps, func(f *fields) error {
		g, err := decodeGrant(f)
		if err == nil && !s.expired(g.ExpiresAt) && !f.bool(propTaken) {
			out = append(out, g)
		}
		return err
	})
	return out, err
}

// query calls each for every row filter matches, page by page.
func (s *Store) query(ctx context.Context, filter, sel string, each func(*fields) error) error {
	var next *[2]string
	for {
		rows, cont, err := s.list(ctx, filter, sel, 1000, next)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := each(r.f); err != nil {
				return err
			}
		}
		if cont == nil {
			return nil
		}
		next = cont
	}
}

func (s *Store) PutClientBlock(ctx context.Context, b store.ClientBlock) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	p := newProps()
	p.str("ClientID", b.ClientID)
	p.str("Reason", b.Reason)
	p.time("CreatedAt", b.CreatedAt)
	e, err := p.entity(own(kindBlock, b.ClientID))
	return s.put(ctx, e, err)
}

func (s *Store) GetClientBlock(ctx context.Context, clientID string) (store.ClientBlock, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, _, err := s.get(ctx, own(kindBlock, clientID), clientID, "ClientID")
	if err != nil {
		return store.ClientBlock{}, err
	}
	b := store.ClientBlock{ClientID: f.str("ClientID"), Reason: f.str("Reason"), CreatedAt: f.time("CreatedAt")}
	return b, f.err
}

func (s *Store) DeleteClientBlock(ctx context.Context, clientID string) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	return s.del(ctx, own(kindBlock, clientID))
}
