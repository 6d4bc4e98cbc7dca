module {% if values.repoHost == "github.com" %}github.com/{% endif %}${{ values.repoSlug }}

go 1.26
