{{/* Names, labels, images and the render-time checks shared by every template. */}}

{{- define "agentik.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Release-based prefix of every object name, at most 44 characters: the StatefulSet's name (prefix
+ "-runtime") must stay within 52, since its pods get a controller-revision-hash label of that
name + "-" + 10 characters, and a label value holds 63.
*/}}
{{- define "agentik.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 44 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 44 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 44 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "agentik.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: only what never changes between releases (selectors are immutable). */}}
{{- define "agentik.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentik.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "agentik.labels" -}}
helm.sh/chart: {{ include "agentik.chart" .root }}
{{ include "agentik.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: agentik-os
{{- end -}}

{{- define "agentik.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "agentik.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* registry/repository:tag, or registry/repository@digest; global.imageRegistry wins. */}}
{{- define "agentik.image" -}}
{{- $registry := default .image.registry .root.Values.global.imageRegistry -}}
{{- $repository := ternary (printf "%s/%s" $registry .image.repository) .image.repository (ne $registry "") -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "agentik.imagePullSecrets" -}}
{{- $secrets := concat (.root.Values.global.imagePullSecrets | default list) (.extra | default list) | uniq -}}
{{- if $secrets -}}
imagePullSecrets:
{{- range $secrets }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Name of the Secret the chart makes from inline values (operator/encryption/provider keys, Redis URL). */}}
{{- define "agentik.secretName" -}}
{{- printf "%s-runtime" (include "agentik.fullname" .) -}}
{{- end -}}

{{/* "true" when the chart renders its own Secret: some secret was given as a value. */}}
{{- define "agentik.chartSecret" -}}
{{- $s := .Values.secrets -}}
{{- if or $s.operatorKey $s.encryptionKey $s.openaiApiKey $s.anthropicApiKey .Values.redis.url -}}true{{- end -}}
{{- end -}}

{{/* Replicas the dashboard never goes below: what the PDB and the spreading rules look at. */}}
{{- define "agentik.dashboardMinReplicas" -}}
{{- if .Values.dashboard.autoscaling.enabled -}}
{{- .Values.dashboard.autoscaling.minReplicas -}}
{{- else -}}
{{- .Values.dashboard.replicas -}}
{{- end -}}
{{- end -}}

{{/* Preferred anti-affinity over nodes and a zone spread, for a component with several replicas. */}}
{{- define "agentik.spread" -}}
{{- $values := .values -}}
{{- if $values.affinity }}
affinity:
  {{- toYaml $values.affinity | nindent 2 }}
{{- else if gt (int .replicas) 1 }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "agentik.selectorLabels" . | nindent 14 }}
{{- end }}
{{- if $values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml $values.topologySpreadConstraints | nindent 2 }}
{{- else if gt (int .replicas) 1 }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "agentik.selectorLabels" . | nindent 8 }}
{{- end }}
{{- end -}}

{{/*
Render-time checks: settings that would otherwise become a crash-looping pod fail here, each
with what to change. values.schema.json has already checked types, enums and key names.
*/}}
{{- define "agentik.validate" -}}
{{- $v := .Values -}}
{{- $errors := list -}}
{{- if and (eq $v.runtime.storage "sqlite") (gt (int $v.runtime.replicas) 1) -}}
{{- $errors = append $errors (printf "runtime.replicas=%d needs runtime.storage=postgres: SQLite keeps its data on one pod's volume and serves exactly one replica. Set runtime.storage=postgres with postgres.existingSecret (see docs/postgres.md), or runtime.replicas=1." (int $v.runtime.replicas)) -}}
{{- end -}}
{{- if eq $v.runtime.storage "postgres" -}}
{{- if not $v.postgres.existingSecret -}}
{{- $errors = append $errors (printf "runtime.storage=postgres needs postgres.existingSecret: the name of a Secret whose key %q holds the database URL (kubectl create secret generic agentik-db --from-literal=%s='postgres://agentik:PASSWORD@HOST:5432/agentik')." $v.postgres.secretKey $v.postgres.secretKey) -}}
{{- end -}}
{{- if and (not $v.secrets.existingSecret) (not (and $v.secrets.operatorKey $v.secrets.encryptionKey)) -}}
{{- $errors = append $errors "runtime.storage=postgres needs the operator and encryption keys, the same on every replica: set secrets.existingSecret (a Secret with the keys operator-key and encryption-key), or both secrets.operatorKey and secrets.encryptionKey (e.g. --set secrets.encryptionKey=$(openssl rand -hex 32))." -}}
{{- end -}}
{{- end -}}
{{- if and $v.secrets.existingSecret (or $v.secrets.operatorKey $v.secrets.encryptionKey $v.secrets.openaiApiKey $v.secrets.anthropicApiKey) -}}
{{- $errors = append $errors (printf "secrets.existingSecret=%s and inline secrets.* values are both set: put operator-key, encryption-key (and openai-api-key, anthropic-api-key) in that Secret and leave the secrets.* values empty." $v.secrets.existingSecret) -}}
{{- end -}}
{{- if and $v.secrets.operatorKey (not (regexMatch "^[!-~]{32,512}$" $v.secrets.operatorKey)) -}}
{{- $errors = append $errors "secrets.operatorKey must be 32 to 512 printable characters without spaces, or the runtime refuses to start (e.g. $(openssl rand -hex 32))." -}}
{{- end -}}
{{- if and $v.secrets.encryptionKey (not (regexMatch "^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$" $v.secrets.encryptionKey)) -}}
{{- $errors = append $errors "secrets.encryptionKey must be 32 bytes written as 64 hex characters (openssl rand -hex 32) or base64 (openssl rand -base64 32), or the runtime refuses to start." -}}
{{- end -}}
{{- /* On upgrade (lookup finds nothing in helm template or --dry-run): the encryption key in use must stay. */ -}}
{{- /* Nested, not one `and`: Helm builds before Go 1.18 evaluate every argument of `and`. */ -}}
{{- $inUse := (lookup "v1" "Secret" .Release.Namespace (include "agentik.secretName" .)).data | default dict -}}
{{- with index $inUse "encryption-key" -}}
{{- if and (not $v.secrets.existingSecret) (ne (b64dec .) ($v.secrets.encryptionKey | default "")) -}}
{{- $errors = append $errors (printf "secrets.encryptionKey must stay the one this release was installed with (in Secret %s): without it, or with another, tenants' stored provider keys can no longer be decrypted. Pass the same value again, e.g. --set secrets.encryptionKey=$(kubectl -n %s get secret %s -o jsonpath='{.data.encryption-key}' | base64 -d)." (include "agentik.secretName" $) $.Release.Namespace (include "agentik.secretName" $)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.redis.url $v.redis.existingSecret -}}
{{- $errors = append $errors "redis.url and redis.existingSecret are both set: keep one." -}}
{{- end -}}
{{- $drainMs := int (index $v.runtime.config "AGENTIK_SHUTDOWN_TIMEOUT_MS" | default 10000) -}}
{{- if le (mul (int $v.runtime.terminationGracePeriodSeconds) 1000) $drainMs -}}
{{- $errors = append $errors (printf "runtime.terminationGracePeriodSeconds=%d must be above the runtime's drain time (AGENTIK_SHUTDOWN_TIMEOUT_MS=%d ms), or Kubernetes kills pods in the middle of requests: raise it to at least %d." (int $v.runtime.terminationGracePeriodSeconds) $drainMs (add (div $drainMs 1000) 5)) -}}
{{- end -}}
{{- /* Checked with the HPA off too: values that cannot be turned on are wrong already. */ -}}
{{- if gt (int $v.dashboard.autoscaling.minReplicas) (int $v.dashboard.autoscaling.maxReplicas) -}}
{{- $errors = append $errors (printf "dashboard.autoscaling.minReplicas=%d is above dashboard.autoscaling.maxReplicas=%d: make maxReplicas at least minReplicas." (int $v.dashboard.autoscaling.minReplicas) (int $v.dashboard.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- if and $v.ingress.enabled $v.ingress.tls.enabled (not $v.ingress.host) -}}
{{- $errors = append $errors "ingress.tls.enabled needs ingress.host: the certificate is issued for that name." -}}
{{- end -}}
{{- if and $v.ingress.certManager.clusterIssuer (not (and $v.ingress.enabled $v.ingress.tls.enabled)) -}}
{{- $errors = append $errors "ingress.certManager.clusterIssuer needs ingress.enabled=true and ingress.tls.enabled=true: cert-manager issues the certificate of the Ingress's TLS section." -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nAgentik OS chart: invalid values\n  - %s\n" (join "\n  - " $errors)) -}}
{{- end -}}
{{- end -}}

{{/* One env entry read from a Secret key. */}}
{{- define "agentik.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/* The runtime's secret settings, shared by the migrate init container and the runtime. */}}
{{- define "agentik.runtimeEnv" -}}
{{- $v := .Values -}}
{{- $chartSecret := include "agentik.secretName" . -}}
{{- $existing := $v.secrets.existingSecret -}}
{{- if eq $v.runtime.storage "postgres" }}
{{ include "agentik.secretEnv" (dict "name" "AGENTIK_DATABASE_URL" "secret" $v.postgres.existingSecret "key" $v.postgres.secretKey) }}
{{- end }}
{{- range $setting := list (list "AGENTIK_OPERATOR_KEY" "operator-key" $v.secrets.operatorKey) (list "AGENTIK_ENCRYPTION_KEY" "encryption-key" $v.secrets.encryptionKey) (list "AGENTIK_OPENAI_API_KEY" "openai-api-key" $v.secrets.openaiApiKey) (list "AGENTIK_ANTHROPIC_API_KEY" "anthropic-api-key" $v.secrets.anthropicApiKey) }}
{{- $name := index $setting 0 }}
{{- $key := index $setting 1 }}
{{- if $existing }}
{{- /* Postgres cannot start without the shared encryption key: a missing key must stop the pod from being created. */}}
{{- $required := and (eq $name "AGENTIK_ENCRYPTION_KEY") (eq $v.runtime.storage "postgres") }}
{{ include "agentik.secretEnv" (dict "name" $name "secret" $existing "key" $key "optional" (not $required)) }}
{{- else if index $setting 2 }}
{{ include "agentik.secretEnv" (dict "name" $name "secret" $chartSecret "key" $key) }}
{{- end }}
{{- end }}
{{- if $v.redis.existingSecret }}
{{ include "agentik.secretEnv" (dict "name" "AGENTIK_REDIS_URL" "secret" $v.redis.existingSecret "key" $v.redis.secretKey) }}
{{- else if $v.redis.url }}
{{ include "agentik.secretEnv" (dict "name" "AGENTIK_REDIS_URL" "secret" $chartSecret "key" "redis-url") }}
{{- end }}
{{- end -}}

{{/* What the migrate init container and the runtime container share: settings, lockdown, mounts. */}}
{{- define "agentik.runtimeContainerBase" -}}
{{- $rt := .Values.runtime -}}
envFrom:
  - configMapRef:
      name: {{ include "agentik.fullname" . }}-runtime
{{- with include "agentik.runtimeEnv" . | trim }}
env:
  {{- . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $rt.securityContext | nindent 2 }}
resources:
  {{- toYaml $rt.resources | nindent 2 }}
volumeMounts:
  - name: data
    mountPath: /var/lib/agentik-os
  - name: tmp
    mountPath: /tmp
  {{- with $rt.extraVolumeMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* "true" when the cluster serves the Prometheus Operator's ServiceMonitor (by group/version or group/version/kind, as --api-versions may give either). */}}
{{- define "agentik.hasServiceMonitor" -}}
{{- if or (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor") (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") -}}true{{- end -}}
{{- end -}}
