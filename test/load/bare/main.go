// Command bare is the load test's baseline: a plain net/http server that
// answers every request with the bytes of a file (an authenticated tools/call
// response captured from the handler). The README's Performance section
// compares the handler's throughput with it. Test tooling only; never
// deployed.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:17099", "listen address")
	file := flag.String("body", "", "file whose bytes every answer carries")
	flag.Parse()
	body, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})))
}
