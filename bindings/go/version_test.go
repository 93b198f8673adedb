package loom

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The release version is written once, in CMakeLists.txt's project(VERSION);
// Go has no copy of its own: Version() asks the C library.
func TestVersionIsTheCMakeProjectVersion(t *testing.T) {
	text, err := os.ReadFile("../../CMakeLists.txt")
	must(t, err)
	m := regexp.MustCompile(`project\(Loom VERSION ([0-9.]+)`).FindSubmatch(text)
	if m == nil {
		t.Fatal("no project(Loom VERSION ...) in CMakeLists.txt")
	}
	if got := strings.Fields(Version())[0]; got != string(m[1]) {
		t.Errorf("Version() = %q, want release %q first", Version(), m[1])
	}
}
