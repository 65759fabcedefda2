package memory_test

import (
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/memory"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return memory.New(memory.WithClock(now))
	})
}
