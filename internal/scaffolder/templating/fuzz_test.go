package templating

import (
	"errors"
	"strings"
	"testing"
)

func FuzzRender(f *testing.F) {
	seeds := []string{
		"",
		"plain",
		"${{ parameters.name }}",
		"x-${{ parameters.count + 1 }}",
		"{% if a %}1{% elif b %}2{% else %}3{% endif %}",
		"{% for k, v in parameters.labels %}${{ k }}={{ v }}{% else %}none{% endfor %}",
		"{% for i in range(3) %}${{ loop.index }}{% endfor %}",
		"{% set x = [1, {a: 'b'}] %}${{ x | dump(2) }}",
		"{% raw %}${{ x }}{% endraw %}",
		"${{ parameters.repoUrl | parseRepoUrl | pick('owner') }}",
		"${{ 'group:x' | parseEntityRef({defaultKind: 'user'}) }}",
		"${{ parameters.tags | sort | join(', ') | upper | truncate(5) }}",
		"${{ 'a' if x else 'b' }}{# c #}",
		"{%- set s -%} a {%- endset -%}${{ s ~ s | replace('a', 'bb') | indent(2, true) }}",
		"${{ 1 // 0 }}${{ 2 ** 1000 }}${{ -'x' }}",
		"${{ (((1))) }}",
		"${{ x is divisibleby 3 }}",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		opts := Options{MaxSteps: 10_000, MaxOutputBytes: 64 << 10}
		got, err := Render(src, testContext(), opts)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) && !errors.Is(err, ErrLimit) {
				t.Fatalf("Render(%q): error of type %T: %v", src, err, err)
			}
			return
		}
		if s, ok := got.(string); ok && len(s) > opts.MaxOutputBytes {
			t.Fatalf("Render(%q): %d bytes exceeds the limit", src, len(s))
		}
		text, err := RenderString(src, testContext(), opts)
		if err != nil {
			t.Fatalf("Render succeeded but RenderString failed: %v", err)
		}
		if len(text) > opts.MaxOutputBytes {
			t.Fatalf("RenderString(%q): %d bytes exceeds the limit", src, len(text))
		}
		if !strings.Contains(src, "${{") && !strings.Contains(src, "{%") && !strings.Contains(src, "{#") && text != src {
			t.Fatalf("text without delimiters changed: %q -> %q", src, text)
		}
	})
}
