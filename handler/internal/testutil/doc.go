// Package testutil holds what the tests of several packages need: a fake
// clock, golden-file comparison, the text of a tool result, a free
// loopback address, and a proxy that injects Table Storage's faults in
// front of Azurite (TableFaults). It is for tests only; the dependency test in package
// main (TestDeps) fails if the handler binary ever links it.
package testutil
