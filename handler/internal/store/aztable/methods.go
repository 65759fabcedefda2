package aztable

import (
	"context"
	"errors"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeClient(c)
	return s.add(ctx, b, err)
}

func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, _, err := s.get(ctx, own(kindClient, id), id, "ID")
	if err != nil {
		return store.Client{}, err
	}
	return decodeClient(f)
}

func (s *Store) PutAuthRequest(ctx context.Context, a store.AuthRequest) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeAuthRequest(a)
	return s.put(ctx, b, err)
}

func (s *Store) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, _, err := s.get(ctx, own(kindAuthReq, id), id, "ID")
	if err != nil {
		return store.AuthRequest{}, err
	}
	return decodeAuthRequest(f)
}

func (s *Store) TakeAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, err := s.take(ctx, own(kindAuthReq, id), id, "ID")
	if err != nil {
		return store.AuthRequest{}, err
	}
	return decodeAuthRequest(f)
}

func (s *Store) PutConsent(ctx context.Context, c store.Consent) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeConsent(c)
	return s.put(ctx, b, err)
}

func (s *Store) GetConsent(ctx context.Context, key string) (store.Consent, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, _, err := s.get(ctx, own(kindConsent, key), key, "Key")
	if err != nil {
		return store.Consent{}, err
	}
	return decodeConsent(f)
}

func (s *Store) PutCode(ctx context.Context, c store.Code) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeCode(c)
	return s.put(ctx, b, err)
}

// TakeCode marks the code redeemed with a replace under If-Match, so of
// any number of racing callers exactly one wins; the others' replace fails
// with 412, and reading the code again shows them it was redeemed. The
// marked record stays until it expires and is purged.
func (s *Store) TakeCode(ctx context.Context, hash string) (store.Code, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	for {
		f, etag, err := s.get(ctx, own(kindCode, hash), hash, "Hash")
		if err != nil {
			return store.Code{}, err
		}
		c, err := decodeCode(f)
		if err != nil {
			return store.Code{}, err
		}
		if !c.RedeemedAt.IsZero() {
			return c, store.ErrRedeemed
		}
		redeemed := c
		redeemed.RedeemedAt = s.now().UTC()
		b, err := encodeCode(redeemed)
		err = s.update(ctx, string(etag), b, err)
		if !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return store.Code{}, err
			}
			return c, nil
		}
		// Lost the race: read again, which finds it redeemed (a code is
		// written once, so nothing else changes it). The operation
		// timeout bounds the loop.
	}
}

// CreateGrant writes the grant's index rows first, then the grant: an
// index row whose grant never came is skipped (and deleted) by ListGrants,
// while a grant without its rows could not be listed by its user.
func (s *Store) CreateGrant(ctx context.Context, g store.Grant) error {
	b, err := encodeGrant(g)
	if err != nil {
		return err
	}
	if err := s.putGrantIndex(ctx, g); err != nil { // each write with its own timeout
		return err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	return s.add(ctx, b, nil)
}

func (s *Store) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, etag, err := s.get(ctx, own(kindGrant, id), id, "ID")
	if err != nil {
		return store.Grant{}, err
	}
	g, err := decodeGrant(f)
	g.ETag = string(etag)
	return g, err
}

func (s *Store) UpdateGrant(ctx context.Context, g store.Grant) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeGrant(g)
	return s.update(ctx, g.ETag, b, err)
}

// DeleteGrant deletes the grant first, so its access tokens stop working at
// once, then the rest of its partition: its refresh tokens, one
// single-partition query (layout.go). If that second step fails the error
// says so and a retry finishes it; the leftovers are useless meanwhile,
// since a refresh needs the grant, and the purge takes them when the grant
// would have expired (its index entry stays).
func (s *Store) DeleteGrant(ctx context.Context, id string) error {
	k := own(kindGrant, id)
	tctx, cancel := s.withTimeout(ctx)
	f, _, readErr := s.getAny(tctx, k, id, "ID")
	err := s.del(tctx, k)
	cancel()
	if err != nil {
		return err
	}
	if readErr == nil {
		if g, err := decodeGrant(f); err == nil {
			if err := s.deleteGrantIndex(ctx, g); err != nil {
				return err
			}
		}
	}
	var next *[2]string
	for {
		rows, cont, err := s.list(ctx, "PartitionKey eq "+quote(k.pk), "PartitionKey,RowKey", 1000, next)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := s.deleteListed(ctx, r); err != nil {
				return err
			}
		}
		if cont == nil {
			return nil
		}
		next = cont
	}
}

func (s *Store) PutRefresh(ctx context.Context, r store.RefreshToken) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeRefresh(r)
	return s.put(ctx, b, err)
}

func (s *Store) GetRefresh(ctx context.Context, grantID, hash string) (store.RefreshToken, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, etag, err := s.get(ctx, refreshKeys(grantID, hash), hash, "Hash")
	if err != nil {
		return store.RefreshToken{}, err
	}
	r, err := decodeRefresh(f)
	r.ETag = string(etag)
	return r, err
}

func (s *Store) UpdateRefresh(ctx context.Context, r store.RefreshToken) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeRefresh(r)
	return s.update(ctx, r.ETag, b, err)
}

func (s *Store) DeleteRefresh(ctx context.Context, grantID, hash string) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	return s.del(ctx, refreshKeys(grantID, hash))
}
