// The playground's behaviour: plain JavaScript against the Worker's own endpoints.
const $ = (selector) => document.querySelector(selector);
const state = { idToken: undefined, user: undefined, token: undefined, expiresAt: 0, config: undefined };

/** `{retCode, message}` as a verdict line; retCode 0 is the only success. */
function verdictHtml({ status, body }) {
  const ok = body?.retCode === 0 || status === 204 || (status === 200 && body && body.retCode === undefined);
  const text =
    body?.retCode !== undefined
      ? `HTTP ${status} · retCode ${body.retCode} · ${body.message}`
      : `HTTP ${status}`;
  const span = document.createElement("span");
  span.className = ok ? "ok" : "bad";
  span.textContent = text;
  return span;
}

async function call(path, { method = "GET", body, headers = {} } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? headers : { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function decodeSegment(segment) {
  const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function show(output, content) {
  output.replaceChildren(content);
}

function tickCountdown() {
  const left = Math.max(0, state.expiresAt - Math.floor(Date.now() / 1000));
  $("#countdown").textContent = left > 0 ? `${Math.floor(left / 60)} min ${left % 60} s` : "expired";
}

function renderSnippet() {
  if (!state.token) return;
  const params = new URLSearchParams({
    tenantSpaceId: $("#tenant").value,
    channelConfigId: $("#channel-config-id").value,
    thirdUserId: state.user.userId,
    thirdUserName: state.user.userName,
    thirdUserToken: state.token,
  });
  $("#snippet").textContent =
    `<!-- CEC web chat client, authenticated as ${state.user.userName} -->\n` +
    `<script type="text/javascript"\n  src="https://<your CEC address>/thirdPartyClient.js?${params}">\n</script>`;
}

function fillValidateForm() {
  const form = $("#validate-form");
  form.Token.value = state.token;
  form.userName.value = state.user.userName;
  form.userId.value = state.user.userId;
  form.tenantSpaceId.value = $("#tenant").value;
}

async function signIn(user) {
  const answer = await call(`/dev/idp/token?user=${encodeURIComponent(user)}`);
  if (answer.status !== 200) return show($("#signed-in"), verdictHtml(answer));
  state.idToken = answer.body.idToken;
  state.user = { userId: answer.body.userId, userName: answer.body.userName };
  const line = document.createElement("span");
  line.className = "ok";
  line.textContent = `Signed in as ${state.user.userName} (${state.user.userId})`;
  show($("#signed-in"), line);
  $("#request-token").disabled = false;
}

async function requestToken() {
  const answer = await call("/v1/tokens", {
    method: "POST",
    headers: { Authorization: `Bearer ${state.idToken}` },
    body: { tenantSpaceId: $("#tenant").value },
  });
  if (answer.status !== 201) {
    $("#token-view").hidden = true;
    return show($("#signed-in"), verdictHtml(answer));
  }
  state.token = answer.body.token;
  state.expiresAt = Math.floor(Date.parse(answer.body.expiresAt) / 1000);
  const [header, payload] = state.token.split(".");
  $("#token-header").textContent = JSON.stringify(decodeSegment(header), null, 2);
  $("#token-claims").textContent = JSON.stringify(decodeSegment(payload), null, 2);
  $("#token-raw").textContent = state.token;
  $("#token-view").hidden = false;
  tickCountdown();
  renderSnippet();
  fillValidateForm();
  $("#open-session").disabled = false;
}

async function validate(event) {
  event.preventDefault();
  const form = $("#validate-form");
  const body = Object.fromEntries(
    ["Token", "userName", "userId", "tenantSpaceId"].map((name) => [name, form[name].value]),
  );
  show($("#verdict"), verdictHtml(await call(state.config.validatePath, { method: "POST", body })));
}

function tamper() {
  const field = $("#validate-form").Token;
  const [header, payload, signature = ""] = field.value.split(".");
  field.value = `${header}.${payload}.${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
}

async function openSession() {
  const form = $("#validate-form");
  const answer = await call("/v1/web-channel/sessions", {
    method: "POST",
    body: {
      Token: state.token,
      userName: state.user.userName,
      userId: state.user.userId,
      tenantSpaceId: form.tenantSpaceId.value || $("#tenant").value,
      channelId: $("#channel-id").value,
    },
  });
  show($("#session-result"), verdictHtml(answer));
}

async function callProtected() {
  const answer = await call("/v1/web-channel/me");
  const line = verdictHtml(answer);
  if (answer.status === 200)
    line.textContent = `HTTP 200 · session of ${answer.body.userId} on ${answer.body.channelId}, until ${answer.body.expiresAt}`;
  show($("#session-result"), line);
}

async function logOut() {
  const answer = await call("/v1/web-channel/sessions", { method: "DELETE" });
  const line = verdictHtml(answer);
  if (answer.status === 204)
    line.textContent = "HTTP 204 · logged out: the session is ended and the cookie cleared";
  show($("#session-result"), line);
}

async function start() {
  state.config = (await call("/playground/config.json")).body;
  $("#environment").textContent =
    `Environment: ${state.config.environment} · validate path: ${state.config.validatePath}`;
  for (const tenant of state.config.tenantSpaceIds) $("#tenant").append(new Option(tenant, tenant));
  for (const button of document.querySelectorAll("[data-user]")) {
    button.disabled = !state.config.developmentIdentityProvider;
    button.addEventListener("click", () => signIn(button.dataset.user));
  }
  $("#request-token").addEventListener("click", requestToken);
  $("#channel-config-id").addEventListener("input", renderSnippet);
  $("#tenant").addEventListener("change", renderSnippet);
  $("#validate-form").addEventListener("submit", validate);
  $("#tamper").addEventListener("click", tamper);
  $("#open-session").addEventListener("click", openSession);
  $("#call-protected").addEventListener("click", callProtected);
  $("#log-out").addEventListener("click", logOut);
  setInterval(() => state.token && tickCountdown(), 1000);
}

start();
