package synth

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenerateSmall(t *testing.T) {
	for _, n := range []int{1, 7, 300, 1200} {
		t.Run("", func(t *testing.T) {
			dir := t.TempDir()
			st, err := Generate(dir, Options{Components: n, Seed: 42})
			if err != nil {
				t.Fatal(err)
			}
			if st.Root != filepath.Join(dir, RootFile) || st.Files[0] != st.Root {
				t.Errorf("Root = %q, Files[0] = %q; want %q first", st.Root, st.Files[0], filepath.Join(dir, RootFile))
			}
			ents := loadTree(t, st.Root)
			if problems := checkCatalog(ents); len(problems) > 0 {
				t.Errorf("%d problems, first ones:\n%v", len(problems), problems[:min(10, len(problems))])
			}
			got := countKinds(ents)
			if diff := cmp.Diff(st.ByKind, got); diff != "" {
				t.Errorf("Stats.ByKind differs from what was parsed (-stats +parsed):\n%s", diff)
			}
			if st.Entities != len(ents) {
				t.Errorf("Stats.Entities = %d, parsed %d", st.Entities, len(ents))
			}
			if got["Component"] != n {
				t.Errorf("%d components, want %d", got["Component"], n)
			}
			for _, k := range []string{"Group", "User", "Domain", "System", "API", "Resource", "Location"} {
				if got[k] < 1 {
					t.Errorf("no %s entities", k)
				}
			}
			for _, f := range st.Files[1:] {
				if c := len(parseFile(t, f)); c > EntitiesPerFile {
					t.Errorf("%s has %d entities, more than %d", f, c, EntitiesPerFile)
				}
			}
		})
	}
}

func TestGenerateRatios(t *testing.T) {
	st, err := Generate(t.TempDir(), Options{Components: 10000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// One Location per data file (all files but all.yaml itself).
	locations := len(st.Files) - 1
	want := map[string]int{"Component": 10000, "API": 3000, "System": 800, "Domain": 100, "Group": 700, "User": 2500, "Resource": 600, "Location": locations}
	if diff := cmp.Diff(want, st.ByKind); diff != "" {
		t.Errorf("ByKind (-want +got):\n%s", diff)
	}
	if want := 17700 + locations; st.Entities != want {
		t.Errorf("Entities = %d, want %d", st.Entities, want)
	}
	// 17,700 entities in chunks of 1,000, per kind, plus all.yaml.
	if got := len(st.Files); got < 18 || got > 30 {
		t.Errorf("%d files, want about 25", got)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	sa, err := Generate(a, Options{Components: 1500, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Generate(b, Options{Components: 1500, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(sa.Files) != len(sb.Files) {
		t.Fatalf("%d files vs %d", len(sa.Files), len(sb.Files))
	}
	for i := range sa.Files {
		x, _ := os.ReadFile(sa.Files[i])
		y, _ := os.ReadFile(sb.Files[i])
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", filepath.Base(sa.Files[i]))
		}
	}
	c := t.TempDir()
	sc, err := Generate(c, Options{Components: 1500, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(sa.Files[1])
	y, _ := os.ReadFile(sc.Files[1])
	if bytes.Equal(x, y) {
		t.Errorf("seeds 7 and 8 wrote the same %s", filepath.Base(sa.Files[1]))
	}
}

func TestGenerateInvalid(t *testing.T) {
	if _, err := Generate(t.TempDir(), Options{Components: 0}); err == nil {
		t.Error("Generate with 0 components succeeded")
	}
}

func BenchmarkGenerate100k(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(b.TempDir(), Options{Components: 100_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
