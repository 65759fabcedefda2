package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound: no such record, or it has expired (Table Storage has no
	// TTL, so expiry is checked on every read), or it was already taken.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: Create* found a record with the same key.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrConflict: an Update* lost a race (the ETag no longer matches).
	ErrConflict = errors.New("store: conflict")
	// ErrRedeemed: TakeCode found the code already redeemed. It comes with
	// the code, so the caller can revoke what the first redemption issued.
	ErrRedeemed = errors.New("store: already redeemed")
	// ErrTooLarge: a value is larger than the backend can hold (Table
	// Storage: 64 KiB per string or binary property). Handlers validate
	// input against tighter limits first; this is the backstop, answered
	// as a bad request, not a server error.
	ErrTooLarge = errors.New("store: value too large")
	// ErrUnavailable wraps failures of the backing service (timeouts,
	// connection refused, 5xx); handlers answer 503 temporarily_unavailable.
	ErrUnavailable = errors.New("store: unavailable")
)

// Store is the whole state of the authorization server. Implementations are
// safe for concurrent use by many goroutines and many instances (the Table
// backend), and every Take* succeeds for exactly one caller.
//
// Records with a non-zero ExpiresAt in the past are treated as absent by
// every read. DeleteExpired removes them for good; until then an expired
// record still holds its key, so Create* may report ErrAlreadyExists for it
// (keys are random or hashes, so this does not happen in practice).
//
// What a backend keeps: times to 100 ns (the resolution of Table Storage's
// Edm.DateTime) and in UTC; nil and empty slices alike (both read back as
// nil). Records are values: nothing the caller does to a slice it passed in
// or got back changes what is stored.
type Store interface {
	// CreateClient stores a new registration; ErrAlreadyExists if the ID is taken.
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	// TouchClient moves a stored registration's ExpiresAt (its idle
	// expiry) to expiresAt; ErrNotFound if there is no such registration.
	TouchClient(ctx context.Context, id string, expiresAt time.Time) error

	// Increment adds one to the counter under key and returns the new
	// count. An absent or expired counter starts at 1 and expires at
	// expiresAt; a live one keeps its expiry. Concurrent calls each count
	// once. Used for the registration quota per client address and hour.
	Increment(ctx context.Context, key string, expiresAt time.Time) (int64, error)

	// PutAuthRequest stores an authorization request between /authorize,
	// /consent and /callback; its ID is the random upstream `state`.
	PutAuthRequest(ctx context.Context, a AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// TakeAuthRequest reads it and takes it away from every later reader:
	// of concurrent callers exactly one gets it, the others ErrNotFound.
	TakeAuthRequest(ctx context.Context, id string) (AuthRequest, error)

	// PutConsent creates or replaces a consent record.
	PutConsent(ctx context.Context, c Consent) error
	GetConsent(ctx context.Context, key string) (Consent, error)

	PutCode(ctx context.Context, c Code) error
	// TakeCode redeems the code: exactly one of any number of concurrent
	// callers gets it as stored. The code is then kept, marked with
	// RedeemedAt, until its ExpiresAt: every later caller (and every loser
	// of a race) gets ErrRedeemed together with the marked code, so a
	// replay can be answered by revoking its grant (RFC 6749 §4.1.2).
	TakeCode(ctx context.Context, hash string) (Code, error)

	// CreateGrant stores a new grant; ErrAlreadyExists if the ID is taken.
	CreateGrant(ctx context.Context, g Grant) error
	// GetGrant returns the grant with its current ETag.
	GetGrant(ctx context.Context, id string) (Grant, error)
	// UpdateGrant replaces the grant if g.ETag still matches (ErrConflict if
	// not, or if g.ETag is empty; ErrNotFound if it is gone). The stored ETag
	// changes, so read the grant again before a second update. It keeps
	// ExpiresAt (see DeleteExpired).
	UpdateGrant(ctx context.Context, g Grant) error
	// DeleteGrant revokes the grant and with it every refresh token and
	// access token that points to it. Deleting a missing grant is not an error.
	// The grant's refresh tokens are deleted too; access tokens die because
	// their grant can no longer be read.
	DeleteGrant(ctx context.Context, id string) error
	// ListGrants returns the live grants of one user (q.Subject), of one
	// client (q.ClientID), of both, or, with neither, every grant, in no
	// particular order and without Upstream (the sealed Entra tokens are
	// not for listing). For a user or a client the backend reads an index,
	// not the whole store: the connected-apps page lists a user's grants
	// on every visit.
	ListGrants(ctx context.Context, q GrantQuery) ([]Grant, error)

	// PutClientBlock records that the operator stopped new sign-ins for a
	// client (replacing an earlier block); it never expires.
	PutClientBlock(ctx context.Context, b ClientBlock) error
	// GetClientBlock returns the client's block; ErrNotFound if there is none.
	GetClientBlock(ctx context.Context, clientID string) (ClientBlock, error)
	// DeleteClientBlock lifts the block; lifting a missing one is not an error.
	DeleteClientBlock(ctx context.Context, clientID string) error

	// PutRefresh stores a refresh token of the grant r.GrantID. A refresh
	// token belongs to its grant: it is addressed by grant and hash, it
	// expires no later than its grant, and DeleteGrant deletes it (so a
	// backend can keep a grant's tokens together, and revoking a family is
	// one query; docs/architecture.md §7.3).
	PutRefresh(ctx context.Context, r RefreshToken) error
	// GetRefresh returns the refresh token hash of grant grantID with its
	// current ETag; ErrNotFound if the grant has no such token.
	GetRefresh(ctx context.Context, grantID, hash string) (RefreshToken, error)
	// UpdateRefresh replaces the record if r.ETag still matches (ErrConflict
	// if not, ErrNotFound if it is gone). Used to mark a token as rotated
	// exactly once. It keeps ExpiresAt (see DeleteExpired).
	UpdateRefresh(ctx context.Context, r RefreshToken) error
	// DeleteRefresh deletes one refresh token; a missing one is not an error.
	DeleteRefresh(ctx context.Context, grantID, hash string) error

	// DeleteExpired removes records whose ExpiresAt is before now, at most
	// max of them, walking the store from cursor ("" is the start). It
	// returns how many it removed and the cursor to continue from, "" once
	// the walk has reached the end. A call does a bounded amount of work
	// whatever the size of the store, and what it reads grows with the
	// number of expired records, not with the number stored (Table Storage:
	// an index of records by hour of expiry, docs/architecture.md §7.3), so
	// it may remove fewer than max and still return a cursor; following the
	// cursors to the end removes every record that expired before now.
	// Records are found by the expiry they were written with (Create*,
	// Put*, Increment); updates keep it or, like TouchClient, move it later.
	DeleteExpired(ctx context.Context, now time.Time, cursor string, max int) (n int, next string, err error)

	// AcquireLease takes the lease called name for holder until until, if
	// it is free at now (never taken, lapsed, or holder's own). Another
	// holder's live lease is ErrConflict, and of racing callers one wins.
	// The lease keeps its Cursor from holder to holder.
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (Lease, error)
	// UpdateLease writes l (its Cursor) if l.ETag still matches: ErrConflict
	// if the lease changed hands or was written since.
	UpdateLease(ctx context.Context, l Lease) error
}

// Lease is a claim on a job that one instance at a time may run, such as
// the purge. It never expires as a record; Until says when the claim lapses.
type Lease struct {
	Name   string
	Holder string
	Until  time.Time
	// Cursor is where the job stopped, for the next holder to go on from.
	Cursor string
	ETag   string
}

// Client is a registered OAuth client (RFC 7591 §2). A registration made
// at /register expires when it has not been used for a while (ExpiresAt,
// moved forward by TouchClient); a zero ExpiresAt never expires.
type Client struct {
	ID                      string
	SecretHash              string // hex SHA-256 of the client secret; empty for public clients
	Name                    string
	RedirectURIs            []string
	GrantTypes              []string
	ResponseTypes           []string
	TokenEndpointAuthMethod string // "none", "client_secret_post", "client_secret_basic"
	ApplicationType         string // "native" or "web"
	Scope                   string
	ClientURI               string
	LogoURI                 string
	CreatedAt               time.Time
	ExpiresAt               time.Time // idle expiry; zero: never
}

// AuthRequest is an authorization request in flight (docs/architecture.md §4:
// /authorize → /consent → Entra → /callback). ID is random and is sent to
// Entra as state. One without a ClientID is a user's sign-in to the
// connected-apps page (/account), which makes no grant.
type AuthRequest struct {
	ID                 string
	ClientID           string
	RedirectURI        string
	State              string // the client's state, returned verbatim
	Scope              string
	Resource           string
	CodeChallenge      string // S256 challenge from the client
	UpstreamVerifier   string // our PKCE verifier for the Entra leg
	Nonce              string // OIDC nonce sent to Entra, checked in the id token
	BrowserBindingHash string // hex SHA-256 of the cookie that binds the flow to one browser
	Approved           bool   // consent given; only then may the upstream leg start
	CreatedAt          time.Time
	ExpiresAt          time.Time
}

// Consent remembers that a browser approved a client and redirect URI.
// Key is derived from the browser's consent cookie, client ID and redirect URI.
type Consent struct {
	Key         string
	ClientID    string
	RedirectURI string
	Scope       string
	// GrantID is the grant the last sign-in through this approval created:
	// the next one, by the same user, replaces it.
	GrantID   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Code is an authorization code (OAuth 2.1 §4.1.2), stored under its hash.
type Code struct {
	Hash          string
	ClientID      string
	RedirectURI   string
	CodeChallenge string
	Resource      string
	Scope         string
	GrantID       string
	Subject       string
	// Replaces is the grant the same user's previous sign-in through the
	// same client created in this browser; redeeming the code revokes it.
	Replaces   string
	RedeemedAt time.Time // set by TakeCode; zero: not yet redeemed
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Grant is one user's authorization of one client: the refresh-token family
// and the sealed upstream Entra tokens (docs/architecture.md §6.4). Access
// tokens carry its ID.
type Grant struct {
	ID       string
	ClientID string
	Subject  string // Entra oid
	Name     string
	Username string // preferred_username
	TenantID string
	Scope    string
	Resource string
	// Upstream is the AES-256-GCM sealed JSON of the Entra tokens; the key
	// id travels inside the sealed blob so keys can rotate.
	Upstream          []byte
	UpstreamExpiresAt time.Time
	// RedirectURI is where the client received the code that created the
	// grant; the connected-apps page shows its host.
	RedirectURI string
	CreatedAt   time.Time // the sign-in: first use
	// LastUsedAt is when tokens were last issued for the grant (a code
	// redeemed or a refresh), to the hour; zero: never redeemed.
	LastUsedAt time.Time
	ExpiresAt  time.Time
	ETag       string // set by reads; checked by UpdateGrant
}

// GrantQuery selects grants for ListGrants; empty fields match any grant.
type GrantQuery struct {
	Subject  string // the user's Entra object id
	ClientID string
}

// ClientBlock stops new sign-ins for a client: the operator's "revoke this
// client" (its grants are deleted too). It is keyed by client ID, which for
// a client ID metadata document is the document's URL, so a blocked app
// cannot come back by fetching its document again.
type ClientBlock struct {
	ClientID  string
	Reason    string
	CreatedAt time.Time
}

// RefreshToken is one refresh token of a grant's family, stored under its
// hash. RotatedAt is set when it was exchanged; within the grace window it
// may be exchanged again and yields the same successor, after it reuse
// revokes the family.
type RefreshToken struct {
	Hash      string
	GrantID   string
	ClientID  string
	Scope     string
	RotatedAt time.Time // zero: not yet used
	// Successor is the refresh token issued when this one was rotated,
	// sealed (AES-256-GCM) so that an exchange inside the grace window can
	// return it again instead of minting another; only a hash of the
	// successor itself is a key.
	Successor []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	ETag      string
}
