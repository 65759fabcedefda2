// Package forwarded finds the address of the client behind the proxies in
// front of the handler, from X-Forwarded-For, trusting only the entries
// those proxies wrote.
//
// Each proxy that forwards a request appends the address of the peer it
// received it from to X-Forwarded-For (the de facto form of RFC 7239's
// "for" parameter). Everything to the left of what our own proxies appended
// was written by the caller and proves nothing. So the client's address is
// the entry hops places from the right, where hops is the number of
// appending proxies between the client and the handler: behind API
// Management and the Functions platform that is two (API Management
// appends the client, the platform's front end appends API Management; the
// Functions host itself passes the header on unchanged, its YARP forwarder
// running with HttpTransformer.Default). With hops 0 the handler is reached
// directly and the header is ignored: the TCP peer is the client.
package forwarded
