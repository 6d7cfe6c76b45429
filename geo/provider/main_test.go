package provider

import (
	"testing"

	"github.com/egresswatch/egresswatch/internal/testcache"
)

func TestMain(m *testing.M) { testcache.Main(m) }
