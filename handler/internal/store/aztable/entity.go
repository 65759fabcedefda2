package aztable

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf16"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// Property size limits of Table Storage: 64 KiB per string (UTF-16, so 32K
// code units) and per binary value
// (learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model).
// The 1 MiB entity limit cannot be reached: no record has enough
// properties to get there at 64 KiB each.
const (
	maxStringUnits = 32 << 10
	maxBinary      = 64 << 10
)

// props collects an entity's properties. Zero values are left out: an
// absent property reads back as the zero value, entities stay small, and a
// zero ExpiresAt (never expires) is absent, so DeleteExpired's filter skips
// it; Edm.DateTime could not hold year 1 anyway (it starts in 1601).
type props struct {
	m   map[string]any
	err error
}

func newProps() *props { return &props{m: map[string]any{}} }

func (p *props) str(name, v string) {
	if v == "" {
		return
	}
	if len(v) > maxStringUnits && len(utf16.Encode([]rune(v))) > maxStringUnits {
		p.fail(fmt.Errorf("%w: aztable: %s is longer than Table Storage's 64 KiB", store.ErrTooLarge, name))
		return
	}
	p.m[name] = v
}

// strs stores a slice as a JSON string: Table Storage has no array type.
func (p *props) strs(name string, v []string) {
	if len(v) == 0 {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		p.fail(err)
		return
	}
	p.str(name, string(b))
}

func (p *props) bin(name string, v []byte) {
	if len(v) == 0 {
		return
	}
	if len(v) > maxBinary {
		p.fail(fmt.Errorf("%w: aztable: %s is %d bytes, more than Table Storage's 64 KiB", store.ErrTooLarge, name, len(v)))
		return
	}
	p.m[name] = aztables.EDMBinary(v)
}

// time stores v as Edm.DateTime. The SDK writes 7 fractional digits and a
// literal Z without converting, so v must be made UTC first; anything finer
// than 100 ns is cut off, as the store.Store contract allows.
func (p *props) time(name string, v time.Time) {
	if !v.IsZero() {
		p.m[name] = aztables.EDMDateTime(v.UTC())
	}
}

func (p *props) int64(name string, v int64) {
	if v != 0 {
		p.m[name] = aztables.EDMInt64(v)
	}
}

func (p *props) bool(name string, v bool) {
	if v {
		p.m[name] = true
	}
}

func (p *props) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// entity is a row to write: where it goes, its properties, and the expiry
// the index lists its partition under (zero: none).
type entity struct {
	keys
	props   map[string]any
	expires time.Time
}

// entity returns the properties as the row at k, or the first encoding
// error. The row is indexed under its ExpiresAt.
func (p *props) entity(k keys) (entity, error) {
	if p.err != nil {
		return entity{}, p.err
	}
	exp, _ := p.m["ExpiresAt"].(aztables.EDMDateTime)
	return entity{keys: k, props: p.m, expires: time.Time(exp)}, nil
}

// body is the JSON the SDK sends; writeID, when set, is stored with it (see
// Store.landed).
func (e entity) body(writeID string) ([]byte, error) {
	props := e.props
	if writeID != "" {
		props = make(map[string]any, len(e.props)+1)
		for k, v := range e.props {
			props[k] = v
		}
		props[propWriteID] = writeID
	}
	return json.Marshal(aztables.EDMEntity{
		Entity:     aztables.Entity{PartitionKey: e.pk, RowKey: e.rk},
		Properties: props,
	})
}

// fields reads properties back; a missing one is the zero value and a value
// of the wrong type is an error.
type fields struct {
	m   map[string]any
	err error
}

func decodeFields(b []byte) (*fields, error) {
	var e aztables.EDMEntity
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("aztable: decode entity: %w", err)
	}
	return &fields{m: e.Properties}, nil
}

func field[T any](f *fields, name string) T {
	var zero T
	v, ok := f.m[name]
	if !ok {
		return zero
	}
	t, ok := v.(T)
	if !ok && f.err == nil {
		f.err = fmt.Errorf("aztable: property %s is %T, want %T", name, v, zero)
	}
	return t
}

func (f *fields) str(name string) string  { return field[string](f, name) }
func (f *fields) int64(name string) int64 { return int64(field[aztables.EDMInt64](f, name)) }
func (f *fields) bool(name string) bool   { return field[bool](f, name) }

func (f *fields) time(name string) time.Time {
	if _, ok := f.m[name]; !ok {
		return time.Time{}
	}
	return time.Time(field[aztables.EDMDateTime](f, name)).UTC()
}

func (f *fields) bin(name string) []byte {
	if b := field[aztables.EDMBinary](f, name); len(b) > 0 {
		return []byte(b)
	}
	return nil
}

func (f *fields) strs(name string) []string {
	s := f.str(name)
	if s == "" {
		return nil
	}
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil && f.err == nil {
		f.err = fmt.Errorf("aztable: property %s: %w", name, err)
	}
	return v
}
