/**
 * `GET /`: the clip grid. The HTML is a fixed shell; `static/app.js` fills it from `/v1.0/clip`,
 * so the page holds no data and needs no templating (and nothing from a request is ever echoed
 * into it).
 */

/** Everything the page loads is ours, except the Twitch player frames and clip thumbnails. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  'frame-src https://clips.twitch.tv',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const EMPTY_MESSAGE =
  'No clips in the past 7 days yet — the detector fires after 5 minutes of chat per channel.';

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>streamscout · highlights</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<header class="top">
  <h1><img src="/static/favicon.svg" alt="" width="32" height="32"> streamscout <span class="sub">highlights</span></h1>
  <p class="lede">Chat spikes caught in the past 7 days, newest first. Select a clip to play it here.</p>
  <p id="status" class="status">Loading clips…</p>
  <p id="announce" class="visually-hidden" role="status"></p>
</header>
<main>
  <p id="empty" class="empty" hidden>${EMPTY_MESSAGE}</p>
  <ul id="clips" class="grid" aria-label="Clips, newest first"></ul>
  <noscript><p class="empty">The clip grid needs JavaScript; the list itself is at <a href="/v1.0/clip">/v1.0/clip</a>.</p></noscript>
</main>
</body>
</html>
`;
