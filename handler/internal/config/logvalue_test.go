package config

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// secretFields are the Config fields LogValue must never show.
var secretFields = []string{"ClientSecret", "TableConnString", "SigningKey", "SigningKeyPrev", "SealingKey", "SealingKeyPrev", "OTLPHeaders"}

// TestLogValueRedactsSecrets sets every field of Config to a value of its
// own and logs the configuration: no secret's value may appear (only that
// it is set), and every other field's value must, so a field added to
// Config fails here until LogValue shows it or it joins secretFields.
func TestLogValueRedactsSecrets(t *testing.T) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	want := map[string]string{} // field -> text that must (not) appear
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.String:
			f.SetString("value-of-" + name)
			want[name] = "value-of-" + name
		case reflect.Int:
			f.SetInt(int64(4000 + i))
			want[name] = `":` + itoa(4000+i)
		case reflect.Int64:
			if f.Type() != reflect.TypeFor[time.Duration]() {
				f.SetInt(int64(4000 + i))
				want[name] = `":` + itoa(4000+i)
				break
			}
			f.SetInt(int64(time.Duration(i+1) * time.Hour))
			want[name] = time.Duration(time.Duration(i+1) * time.Hour).String()
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			if f.Type() == reflect.TypeFor[[]string]() {
				f.Set(reflect.ValueOf([]string{"value-of-" + name}))
				want[name] = "value-of-" + name
				break
			}
			c.ToolScopes = []ToolScope{{Name: "value-of-scope", Permissions: []string{"https://graph.microsoft.com/Value.Of"}}}
			want[name] = "value-of-scope=https://graph.microsoft.com/Value.Of"
		default:
			t.Fatalf("field %s of kind %s: teach this test (and LogValue) about it", name, f.Kind())
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("configuration", "config", c)
	out := buf.String()
	var decoded map[string]any
	if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
		t.Fatalf("log line is not JSON: %v\n%s", err, out)
	}
	for name, text := range want {
		switch shown := strings.Contains(out, text); {
		case slices.Contains(secretFields, name) && shown:
			t.Errorf("secret %s appears in the log: %s", name, out)
		case !slices.Contains(secretFields, name) && !shown:
			t.Errorf("%s (%q) is missing from the log; show it in LogValue or add it to secretFields", name, text)
		}
	}
	if n := strings.Count(out, `"`+redacted+`"`); n != len(secretFields) {
		t.Errorf("%d settings shown as %s, want %d (every secret, since all are set): %s", n, redacted, len(secretFields), out)
	}
	for _, name := range []string{EnvSigningKey, EnvClientSecret, EnvTableConnString} {
		if decoded["config"].(map[string]any)[name] != redacted {
			t.Errorf("%s = %v, want %s", name, decoded["config"].(map[string]any)[name], redacted)
		}
	}

	// Unset secrets say so.
	buf.Reset()
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("configuration", "config", Config{})
	if strings.Contains(buf.String(), redacted) {
		t.Errorf("unset secrets logged as set: %s", buf.String())
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
