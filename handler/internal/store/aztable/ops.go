package aztable

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// The primitives every method is built from. Each runs within the caller's
// operation timeout (see withTimeout).

// get point-reads one record. It is ErrNotFound when the row is missing, when
// it has expired (no TTL in Table Storage: docs/architecture.md §7.2), or
// when the row holds a different key (only possible if two keys hashed
// alike).
func (s *Store) get(ctx context.Context, kind, key, keyProp string) (*fields, azcore.ETag, error) {
	f, etag, err := s.getAny(ctx, kind, key, keyProp)
	if err == nil && s.expired(f.time("ExpiresAt")) {
		return nil, "", store.ErrNotFound
	}
	return f, etag, err
}

// getAny is get without the expiry check, for writers that replace an
// expired record in place.
func (s *Store) getAny(ctx context.Context, kind, key, keyProp string) (*fields, azcore.ETag, error) {
	var resp aztables.GetEntityResponse
	err := s.call(ctx, func(ctx context.Context) (err error) {
		resp, err = s.client.GetEntity(ctx, kind, rowKey(key), nil)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	f, err := decodeFields(resp.Value)
	if err != nil {
		return nil, "", err
	}
	if f.str(keyProp) != key {
		return nil, "", store.ErrNotFound
	}
	return f, resp.ETag, nil
}

// expired is the contract's rule: a non-zero ExpiresAt before now.
func (s *Store) expired(at time.Time) bool {
	return !at.IsZero() && s.now().After(at)
}

// take reads a record and deletes it with If-Match on the ETag just read. Of
// any number of concurrent takers all may read it, but only the first delete
// matches; the rest get 404 (gone) or 412 (ETag changed), which both mean
// "already used" (docs/architecture.md §7.2; Delete Entity,
// learn.microsoft.com/rest/api/storageservices/delete-entity1). Without
// If-Match the SDK deletes unconditionally and every taker would win.
func (s *Store) take(ctx context.Context, kind, key, keyProp string) (*fields, error) {
	f, etag, err := s.get(ctx, kind, key, keyProp)
	if err != nil {
		return nil, err
	}
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.DeleteEntity(ctx, kind, rowKey(key), &aztables.DeleteEntityOptions{IfMatch: &etag})
		return err
	})
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// add inserts; AddEntity is insert-only, so an existing key is a 409,
// which mapError makes ErrAlreadyExists.
func (s *Store) add(ctx context.Context, entity []byte, err error) error {
	if err != nil {
		return err
	}
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.AddEntity(ctx, entity, nil)
		return err
	})
}

// put inserts or replaces. Replace, not merge, so that a property left out
// because it is now zero does not keep its old value.
func (s *Store) put(ctx context.Context, entity []byte, err error) error {
	if err != nil {
		return err
	}
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.UpsertEntity(ctx, entity, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
		return err
	})
}

// update replaces the entity only if it still has etag: a lost race is a
// 412 (ErrConflict), a deleted entity a 404 (ErrNotFound). An empty ETag
// is a conflict without asking: the contract says it never matches, and a
// nil If-Match would make the SDK send "*", which matches anything.
func (s *Store) update(ctx context.Context, etag string, entity []byte, err error) error {
	if err != nil {
		return err
	}
	if etag == "" {
		return store.ErrConflict
	}
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.UpdateEntity(ctx, entity, &aztables.UpdateEntityOptions{
			IfMatch:    (*azcore.ETag)(&etag),
			UpdateMode: aztables.UpdateModeReplace,
		})
		return err
	})
}

// del deletes unconditionally; a missing record is not an error.
func (s *Store) del(ctx context.Context, kind, key string) error {
	err := s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.DeleteEntity(ctx, kind, rowKey(key), nil)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// deleteWhere deletes every entity filter matches and keep accepts (nil:
// all), and returns how many it deleted. Unlike the point operations this
// may take many requests, so each request gets its own timeout and ctx
// bounds the whole.
func (s *Store) deleteWhere(ctx context.Context, filter, sel string, keep func(*fields) bool) (int, error) {
	pager := s.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter, Select: &sel})
	n := 0
	for pager.More() {
		tctx, cancel := s.withTimeout(ctx)
		page, err := pager.NextPage(tctx)
		cancel()
		if hasCode(err, aztables.TableNotFound) {
			return n, nil // no table yet, nothing to delete
		}
		if err != nil {
			return n, mapError(err)
		}
		d, err := s.deleteListed(ctx, page.Entities, keep)
		n += d
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// deleteListed deletes the listed entities keep accepts (nil: all), each
// with the ETag it was listed with, so one rewritten in between (a renewed
// consent, a touched registration) survives.
func (s *Store) deleteListed(ctx context.Context, entities [][]byte, keep func(*fields) bool) (int, error) {
	n := 0
	for _, raw := range entities {
		var e aztables.EDMEntity
		if err := e.UnmarshalJSON(raw); err != nil {
			return n, fmt.Errorf("aztable: decode listed entity: %w", err)
		}
		if e.Properties == nil {
			e.Properties = map[string]any{}
		}
		e.Properties["PartitionKey"] = e.PartitionKey // for keep
		if keep != nil && !keep(&fields{m: e.Properties}) {
			continue
		}
		etag := azcore.ETag(e.ETag)
		if etag == "" {
			return n, fmt.Errorf("aztable: listed entity %s/%s has no ETag", e.PartitionKey, e.RowKey)
		}
		tctx, cancel := s.withTimeout(ctx)
		_, err := s.client.DeleteEntity(tctx, e.PartitionKey, e.RowKey, &aztables.DeleteEntityOptions{IfMatch: &etag})
		cancel()
		switch err = mapError(err); {
		case err == nil:
			n++
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
			// Gone or rewritten since it was listed: not ours to delete.
		default:
			return n, err
		}
	}
	return n, nil
}

// odataTime formats t for an OData filter, to the 100 ns of Edm.DateTime.
func odataTime(t time.Time) string {
	return "datetime'" + t.UTC().Format("2006-01-02T15:04:05.0000000Z") + "'"
}
