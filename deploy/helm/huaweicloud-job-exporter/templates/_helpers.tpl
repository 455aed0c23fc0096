{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "hje.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects. A StatefulSet pod is named <fullname>-<ordinal> and the exporter
reads its shard from the part after the last '-', so the name must stay a valid prefix of a pod name:
52 characters leave room for the ordinal and the controller-revision-hash label of StatefulSet pods.
*/}}
{{- define "hje.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "hje.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "hje.labels" -}}
helm.sh/chart: {{ include "hje.chart" . }}
{{ include "hje.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "hje.name" . }}
{{- end }}

{{/* Labels that select the pods: never change them in an upgrade (selectors are immutable). */}}
{{- define "hje.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hje.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "hje.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hje.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Release tags, and so `make docker` image tags (git describe), carry a "v": appVersion does not. */}}
{{- define "hje.image" -}}
{{- $tag := default (printf "v%s" .Chart.AppVersion) .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The exporter's configuration: .Values.config as given, plus the credentials block of the metadata
source. Rendered by the ConfigMap and hashed into the pod annotation, so both see the same bytes.
*/}}
{{- define "hje.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) }}
{{- if eq .Values.credentials.source "metadata" }}
{{- if hasKey $cfg "credentials" }}
{{- fail "credentials.source is metadata: leave config.credentials out, the chart writes it" }}
{{- end }}
{{- $creds := dict "source" "metadata" }}
{{- with .Values.credentials.metadata.url }}
{{- $_ := set $creds "metadata_url" . }}
{{- end }}
{{- $_ := set $cfg "credentials" $creds }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/*
Fails the render on values that cannot work, with the value to fix. values.schema.json checks types,
enums and unknown keys; these are the checks across values.
*/}}
{{- define "hje.validate" -}}
{{- if and (eq .Values.credentials.source "secret") (not .Values.credentials.existingSecret.name) }}
{{- fail "credentials.existingSecret.name: required when credentials.source is secret" }}
{{- end }}
{{- if not (.Values.config | default dict).projects }}
{{- fail "config.projects: at least one project is required" }}
{{- end }}
{{- range $i, $p := .Values.config.projects }}
{{- /* An unquoted all-digit id reaches Helm as a float and would be written as 1.2e+31. */}}
{{- if and (hasKey $p "project_id") (not (kindIs "string" $p.project_id)) }}
{{- fail (printf "config.projects[%d].project_id: quote it, YAML reads an unquoted number as a float" $i) }}
{{- end }}
{{- end }}
{{- end }}
