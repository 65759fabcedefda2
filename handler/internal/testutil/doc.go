// Package testutil holds what the tests of several packages need: a fake
// clock, golden-file comparison, the text of a tool result and a free
// loopback address. It is for tests only; the dependency test in package
// main (TestDeps) fails if the handler binary ever links it.
package testutil
