package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyCheckBad: policy check prints each error with its source
// line and caret (the rules package's goldens) and then how many there
// are.
func TestPolicyCheckBad(t *testing.T) {
	for _, tt := range []struct {
		fixture string
		errors  int
	}{
		{"syntax-indent.bad.yaml", 1},
		{"references.bad.yaml", 19},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			file := filepath.Join("..", "..", "testdata", "policy", tt.fixture)
			golden, err := os.ReadFile(strings.TrimSuffix(file, ".yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			// The goldens name the file as the rules package's tests see it.
			want := strings.ReplaceAll(string(golden), "../testdata/", "../../testdata/") +
				fmt.Sprintf("%s: %d error(s)\n", file, tt.errors)
			var out, errb bytes.Buffer
			if code := cmdPolicy(context.Background(), []string{"check", file}, &out, &errb); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if errb.String() != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", errb.String(), want)
			}
		})
	}
}
