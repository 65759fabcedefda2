package aztable

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// The layout of the table (docs/architecture.md §7.3). Table Storage serves
// one partition from one server, at up to about 2,000 entities a second,
// and a storage account at up to 20,000 transactions a second
// (learn.microsoft.com/azure/storage/tables/scalability-targets). So:
//
//   - Every record is its own partition: PartitionKey is "<kind>-<key>",
//     RowKey the kind. Point reads and conditional writes name one row of
//     one partition, and the load spreads over as many partitions as there
//     are records; no kind shares a partition across users.
//   - Refresh tokens live in their grant's partition ("grant-<grant id>",
//     RowKey "refresh-<hash>"): the one query by something other than a key,
//     "every refresh token of a grant" (DeleteGrant), reads one partition.
//     The grant id travels in the refresh token itself (oauth), so reading
//     a token is still a point read.
//   - The expiry index: for every record written with an ExpiresAt, a row in
//     partition "expires-<shard>-<hour of expiry>" whose RowKey is the
//     record's partition. The purge reads the index up to the current hour
//     instead of scanning the table, so its work follows the number of
//     expired records, not the size of the table. Sixteen shards (by hash
//     of the record's partition) keep the writes of one hour off a single
//     partition: up to 32,000 index writes a second, more than the account
//     carries.
//
// Kind names never start with "expires", so the index's partitions cannot
// collide with a record's.
const (
	kindClient  = "client"
	kindAuthReq = "authreq"
	kindConsent = "consent"
	kindCode    = "code"
	kindGrant   = "grant"
	kindRefresh = "refresh"
	kindCounter = "counter"
	kindLease   = "lease"
	kindBlock   = "block"
	// The grant indexes (list.go): partitions listing a user's or a
	// client's grants.
	kindUserGrant   = "usergrant"
	kindClientGrant = "clientgrant"

	indexPrefix = "expires-"
	indexShards = 16
	// indexHour is the layout of the index partition's hour (UTC); it
	// sorts as time does.
	indexHour = "2006010215"
)

// keys names one row.
type keys struct{ pk, rk string }

// own is the row of a record that is alone in its partition.
func own(kind, key string) keys { return keys{kind + "-" + rowKey(key), kind} }

// refreshKeys is the row of a refresh token, in its grant's partition.
func refreshKeys(grantID, hash string) keys {
	return keys{own(kindGrant, grantID).pk, kindRefresh + "-" + rowKey(hash)}
}

// indexKeys is the index row that lists partition pk under the hour of exp.
func indexKeys(pk string, exp time.Time) keys {
	return keys{indexShard(shardOf(pk)) + exp.UTC().Format(indexHour), pk}
}

// shardOf spreads partitions over the index shards by hash, so records
// with similar keys (or written at the same moment) land in different ones.
func shardOf(pk string) int {
	sum := sha256.Sum256([]byte(pk))
	return int(sum[0]) % indexShards
}

// indexShard is the prefix of every index partition of one shard.
func indexShard(shard int) string { return fmt.Sprintf("%s%x-", indexPrefix, shard) }

// maxPlainKey is the longest key used as it is in a key column; longer ones
// are hashed (rowKey).
const maxPlainKey = 256

// rowKey maps a record key to the form it takes in PartitionKey and RowKey.
// Keys made only of [A-Za-z0-9._-] (hashes, random IDs) are used as they
// are, which keeps the table readable in Storage Explorer. Anything else
// (client IDs that are URLs, say) may hold characters Table Storage forbids
// in keys (/ \ # ? and control characters) or be longer than 1 KiB, so it
// becomes "~" + the base64url SHA-256 of the key; "~" never occurs in a
// plain key, so the two forms cannot collide. The key itself is stored in a
// property and compared on read, so the mapping need not be reversible.
// Plain keys also never hold a single quote, so they go into an OData
// filter without escaping.
func rowKey(key string) string {
	if plainKey(key) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "~" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func plainKey(key string) bool {
	if key == "" || len(key) > maxPlainKey {
		return false
	}
	for _, c := range []byte(key) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}
