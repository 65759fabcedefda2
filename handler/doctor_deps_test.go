package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandInsNotLinked: the deployed binary carries none of the local
// stand-ins or the doctor; they are separate commands.
func TestStandInsNotLinked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range []string{"internal/doctor", "internal/entraemu", "internal/funchost"} {
		if strings.Contains(string(out), "/handler/"+pkg+"\n") {
			t.Errorf("the handler binary links %s", pkg)
		}
	}
}
