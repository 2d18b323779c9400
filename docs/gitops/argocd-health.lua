-- Argo CD health check for mtopo's kinds (MessagingTopology, MTARelay, MMPPool): the same script
-- for each, from the conditions the operator writes. docs/gitops.md shows how to install it.
--   Healthy      Ready=True (warnings that leave the site working show as the message)
--   Progressing  the operator has not seen this generation yet, or tiers are rolling out
--   Suspended    reconciling is paused (the mtopo.dev/paused annotation)
--   Degraded     the spec is invalid (Stalled) or the operator cannot apply what it rendered
local hs = {}

local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local ready = condition("Ready")
local progressing = condition("Progressing")
local degraded = condition("Degraded")
local stalled = condition("Stalled")
local generation = obj.metadata.generation or 0
local observed = (obj.status ~= nil and obj.status.observedGeneration) or 0

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the mtopo operator to report status."
elseif observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the mtopo operator to reconcile generation " .. generation .. "."
elseif stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.message
elseif progressing ~= nil and progressing.reason == "Paused" then
  hs.status = "Suspended"
  hs.message = progressing.message
elseif degraded ~= nil and degraded.status == "True" and degraded.reason == "ApplyFailed" then
  hs.status = "Degraded"
  hs.message = degraded.message
elseif ready.status == "True" then
  hs.status = "Healthy"
  if degraded ~= nil and degraded.status == "True" then
    hs.message = degraded.message
  else
    hs.message = ready.message
  end
else
  hs.status = "Progressing"
  hs.message = ready.message
end
return hs
