package infra

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// TestInfraAzureYAML: azure.yaml declares the api service as a Functions app
// packaged from build/app, and every hook runs a script that exists.
// There is no YAML parser in go.mod, so this reads the few lines it needs.
func TestInfraAzureYAML(t *testing.T) {
	raw := string(mustRead(t, "azure.yaml"))
	for _, line := range strings.Split(raw, "\n") {
		if strings.Contains(line, "\t") {
			t.Errorf("azure.yaml: tab in %q (YAML indentation is spaces)", line)
		}
	}
	for _, want := range []string{"\nname: ", "\nservices:\n  api:\n", "    host: function\n", "    language: custom\n", "    dist: build/app\n", "    project: .\n", "\ninfra:\n", "  path: infra\n", "  module: main\n"} {
		if !strings.Contains(raw, want) {
			t.Errorf("azure.yaml lacks %q", strings.TrimSpace(want))
		}
	}
	runs := regexp.MustCompile(`(?m)^\s+run:\s*(\S+)`).FindAllStringSubmatch(raw, -1)
	if len(runs) < 3 {
		t.Errorf("azure.yaml: want prepackage, preprovision and postprovision hooks, found %d run lines", len(runs))
	}
	for _, r := range runs {
		st, err := os.Stat(filepath.Join(infraRoot, r[1]))
		if err != nil {
			t.Errorf("azure.yaml runs %s: %v", r[1], err)
			continue
		}
		if st.Mode()&0o111 == 0 {
			t.Errorf("azure.yaml runs %s, which is not executable", r[1])
		}
	}
	if !strings.Contains(raw, "scripts/build.sh build/app") {
		t.Error("the prepackage hook must stage build/app with scripts/build.sh")
	}
	// azd accepts language custom only with its alpha feature on
	// (alpha.language.custom); the deploy instructions must say so. Not
	// language go: in azd that is the native Go worker, which ships only a
	// binary named app and host.json, not a custom handler's function folders.
	for _, doc := range []string{"azure.yaml", "README.md", "infra/README.md"} {
		if !strings.Contains(string(mustRead(t, doc)), "azd config set alpha.language.custom on") {
			t.Errorf("%s does not tell to run azd config set alpha.language.custom on", doc)
		}
	}

	// main.parameters.json: valid JSON, only real parameters, every required one.
	var pf struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(mustRead(t, "infra/main.parameters.json"), &pf); err != nil {
		t.Fatalf("infra/main.parameters.json: %v", err)
	}
	main := bicepFileOf(t, "main.bicep")
	for name := range pf.Parameters {
		if _, ok := main.Params[name]; !ok {
			t.Errorf("main.parameters.json sets %s, which main.bicep does not declare", name)
		}
	}
	for name, p := range main.Params {
		if _, ok := pf.Parameters[name]; p.Default == nil && !ok {
			t.Errorf("main.bicep param %s has no default and no value in main.parameters.json", name)
		}
	}
	for _, name := range []string{"environmentName", "location", "principalId"} {
		if v := fmt.Sprint(pf.Parameters[name].Value); !strings.HasPrefix(v, "${AZURE_") {
			t.Errorf("main.parameters.json %s = %q, want an azd ${AZURE_...} value", name, v)
		}
	}
}

// TestInfraScripts: the shell scripts parse, reference files that exist, and
// keep key material off command lines and out of output.
func TestInfraScripts(t *testing.T) {
	scripts := []string{"scripts/deploy.sh", "infra/scripts/keys.sh"}
	if bash, err := exec.LookPath("bash"); err == nil {
		for _, s := range scripts {
			if out, err := exec.Command(bash, "-n", filepath.Join(infraRoot, s)).CombinedOutput(); err != nil {
				t.Errorf("bash -n %s: %v\n%s", s, err, out)
			}
		}
	}
	deploy := string(mustRead(t, "scripts/deploy.sh"))
	for _, ref := range []string{"scripts/build.sh", "infra/main.bicep", "infra/scripts/keys.sh"} {
		if !strings.Contains(deploy, ref) {
			t.Errorf("deploy.sh does not use %s", ref)
		}
		if _, err := os.Stat(filepath.Join(infraRoot, ref)); err != nil {
			t.Error(err)
		}
	}
	for _, flag := range []string{"--rotate-keys", "--what-if", "az deployment sub create", "func azure functionapp publish"} {
		if !strings.Contains(deploy, flag) {
			t.Errorf("deploy.sh lacks %s", flag)
		}
	}
	keys := string(mustRead(t, "infra/scripts/keys.sh"))
	if !strings.Contains(keys, "infra/keys.bicep") || !strings.Contains(keys, `-p "@$tmp/`) {
		t.Error("keys.sh must deploy infra/keys.bicep from a parameters file")
	}
	// Key variables may only reach the parameters file.
	leak := regexp.MustCompile(`(?m)^[^#\n]*\b(echo|log|die)\b[^\n]*\$\{?(signing|sealing|signing_prev|sealing_prev)\b`)
	if m := leak.FindString(keys); m != "" {
		t.Errorf("keys.sh may print key material: %q", strings.TrimSpace(m))
	}
	if regexp.MustCompile(`-p\s+\S*(signingKey|sealingKey)=`).MatchString(keys + deploy) {
		t.Error("key values passed as command-line parameters (visible in the process list)")
	}
	if !strings.Contains(keys, "set +x") {
		t.Error("keys.sh must turn tracing off")
	}
}

// TestInfraKeyFormats runs the key generators of infra/scripts/keys.sh (the
// functions themselves, cut from the script) and parses their output the way
// the handler parses SIGNING_KEY and SEALING_KEY.
func TestInfraKeyFormats(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	script := string(mustRead(t, "infra/scripts/keys.sh"))
	fn := func(name string) string {
		m := regexp.MustCompile(`(?ms)^` + name + `\(\) \{\n.*?^\}\n`).FindString(script)
		if m == "" {
			t.Fatalf("keys.sh has no function %s", name)
		}
		return m
	}
	gen := func(name string) string {
		out, err := exec.Command(bash, "-c", "set -euo pipefail\n"+fn(name)+name).Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return string(out)
	}
	s1, s2 := gen("new_signing_key"), gen("new_signing_key")
	if s1 == s2 {
		t.Error("two signing keys are equal")
	}
	sk, err := tokens.ParseSigningKey(s1)
	if err != nil {
		t.Fatalf("the handler rejects keys.sh's signing key: %v", err)
	}
	if bits := rsaBits(t, sk); bits != 2048 {
		t.Errorf("keys.sh makes %d-bit RSA keys, want 2048 (RS256, tokens under 1 KB)", bits)
	}
	// The script's own check (2.3 KB of base64) must accept what it makes.
	if len(s1) < 2000 {
		t.Errorf("signing key is %d characters; keys.sh refuses fewer than 2000", len(s1))
	}
	k := gen("new_sealing_key")
	if _, err := tokens.ParseSealingKey(k); err != nil {
		t.Errorf("the handler rejects keys.sh's sealing key: %v", err)
	}
	for _, v := range []string{s1, k} {
		if strings.ContainsAny(v, "\n\"\\") {
			t.Error("generated keys must be one line without JSON-special characters (they are written into a JSON parameters file unescaped)")
		}
	}

	// is_rsa_key decides whether rotate keeps the current key as previous:
	// RSA keys yes, the EC keys of earlier versions (and garbage) no.
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, _ := x509.MarshalECPrivateKey(ec)
	ecKey := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	for in, want := range map[string]bool{s1: true, s2: true, ecKey: false, k: false, "": false} {
		cmd := exec.Command(bash, "-c", "set -uo pipefail\n"+fn("is_rsa_key")+"is_rsa_key")
		cmd.Stdin = strings.NewReader(in)
		if got := cmd.Run() == nil; got != want {
			t.Errorf("is_rsa_key(%.20s…) = %v, want %v", in, got, want)
		}
	}
}

// rsaBits is the modulus size of the RSA key inside k, read through its
// PKCS#8 PEM.
func rsaBits(t *testing.T, k *tokens.SigningKey) int {
	t.Helper()
	b, _ := k.PEM()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key.(*rsa.PrivateKey).N.BitLen()
}

func mustRead(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(infraRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
