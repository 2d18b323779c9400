{{/* Names and labels shared by every template. */}}

{{/* The chart's name, or nameOverride. */}}
{{- define "mtopo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name: the release name when it already holds the chart's name, else
<release>-<chart>; fullnameOverride replaces it. 63 characters at most (a label value).
*/}}
{{- define "mtopo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "mtopo.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mtopo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* What selects the operator's pods: stable across upgrades. */}}
{{- define "mtopo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mtopo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "mtopo.labels" -}}
{{ include "mtopo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: mtopo
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "mtopo.chart" . }}
{{- end }}

{{- define "mtopo.serviceAccountName" -}}
{{- default (include "mtopo.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{- define "mtopo.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The image the operator gives a site's program (mta, store, mmp) where the site's spec.images names
none: images.<program>, else the program of this release from the operator's own registry
(docker.io/mtopo/<program>:<appVersion> by default, so a site runs the release it was deployed with).
*/}}
{{- define "mtopo.programImage" -}}
{{- $values := .root.Values }}
{{- $image := index $values.images .program }}
{{- if $image }}{{ $image }}{{ else }}
{{- printf "%s/%s:%s" (dir $values.image.repository) .program (default .root.Chart.AppVersion $values.image.tag) }}
{{- end }}
{{- end }}

{{/* Leader election: required with more than one replica (two leaders would fight over every child). */}}
{{- define "mtopo.leaderElection" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail "leaderElection.enabled=false needs replicas=1: replicas without a leader would all reconcile" }}
{{- end }}
{{- if .Values.leaderElection.enabled }}true{{ end }}
{{- end }}

{{/* The chart's labels without a component: the CRDs (which serve every site), the test hook's objects (which the operator's selectors must not catch). */}}
{{- define "mtopo.releaseLabels" -}}
app.kubernetes.io/name: {{ include "mtopo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: mtopo
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "mtopo.chart" . }}
{{- end }}

{{/* The `helm test` pod's kubectl arguments: every topology in scope Ready. */}}
{{- define "mtopo.testArgs" -}}
- wait
- --for=condition=Ready
- messagingtopologies.mtopo.dev
- --all
{{- if .Values.watchNamespace }}
- --namespace={{ .Values.watchNamespace }}
{{- else }}
- --all-namespaces
{{- end }}
- --timeout={{ .Values.tests.timeout }}
{{- end }}
