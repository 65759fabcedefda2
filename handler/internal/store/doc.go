// Package store defines the state contract of the authorization server
// (docs/architecture.md §7): client registrations (RFC 7591), authorization
// requests in flight, consent records, authorization codes, grants holding
// the sealed upstream Entra tokens, and refresh tokens (OAuth 2.1 §4.3,
// rotated); plus counters (registration quotas) and leases (one purging
// instance at a time, see Purger).
//
// Two backends implement it: memory (tests, local runs without storage) and
// aztable (Azure Table Storage, Azurite locally). Both pass the conformance
// suite in storetest. Everything is a point read by key; secrets (codes,
// refresh tokens) are stored under their SHA-256 hash, never in clear.
package store
