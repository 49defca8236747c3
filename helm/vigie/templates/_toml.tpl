{{/*
TOML rendering of the values, for vigie.toml. Helm reads every number of
the values as a float: integral ones are written as TOML integers, because
the configuration's u64 fields refuse 30.0. Keys that are not bare TOML keys
are quoted; null values are left out (the binary's default applies).
*/}}

{{- define "vigie.toml.key" -}}
{{- if regexMatch "^[A-Za-z0-9_-]+$" . -}}{{ . }}{{- else -}}{{ toJson . }}{{- end -}}
{{- end -}}

{{- define "vigie.toml.value" -}}
{{- $v := . -}}
{{- if kindIs "string" $v -}}
{{- /* A JSON string is a TOML basic string; Go escapes <, > and & needlessly. */ -}}
{{- toJson $v | replace "\\u003c" "<" | replace "\\u003e" ">" | replace "\\u0026" "&" -}}
{{- else if kindIs "bool" $v -}}
{{- $v -}}
{{- else if or (kindIs "float64" $v) (kindIs "int" $v) (kindIs "int64" $v) -}}
{{- if eq (float64 $v) (floor $v) -}}{{ int64 $v }}{{- else -}}{{ $v }}{{- end -}}
{{- else if kindIs "slice" $v -}}
[{{ range $i, $e := $v }}{{ if $i }}, {{ end }}{{ include "vigie.toml.value" $e }}{{ end }}]
{{- else if kindIs "map" $v -}}
{ {{- range $i, $k := keys $v | sortAlpha }}{{ if $i }},{{ end }} {{ include "vigie.toml.key" $k }} = {{ include "vigie.toml.value" (get $v $k) }}{{ end }} }
{{- else -}}
{{- fail (printf "vigie.toml: unsupported value %v" $v) -}}
{{- end -}}
{{- end -}}

{{/* A table: its plain keys first, then its sub-tables under their headers. */}}
{{- define "vigie.toml.table" -}}
{{- $path := .path -}}
{{- $table := .table -}}
{{- range $k := keys $table | sortAlpha }}
{{- $v := get $table $k }}
{{- if not (or (kindIs "map" $v) (kindIs "invalid" $v)) }}
{{ include "vigie.toml.key" $k }} = {{ include "vigie.toml.value" $v }}
{{- end }}
{{- end }}
{{- range $k := keys $table | sortAlpha }}
{{- $v := get $table $k }}
{{- if and (kindIs "map" $v) (gt (len $v) 0) }}
{{- $sub := append $path (include "vigie.toml.key" $k) }}

[{{ join "." $sub }}]
{{- include "vigie.toml.table" (dict "path" $sub "table" $v) }}
{{- end }}
{{- end }}
{{- end -}}
