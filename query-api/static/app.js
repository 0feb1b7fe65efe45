// The clip grid: lists the past 7 days' clips from /v1.0/clip (the server picks the window),
// newest first, refreshes the list so new clips appear, and plays a clip inside its own card.
// Plain DOM code, no framework and no build step; data only ever goes into text and attributes,
// never into innerHTML.

// A new clip takes about 25 s to reach the table (10 s delay + 15 s for metadata); polling every
// 15 s shows it within one more period without loading the database with an idle tab.
const REFRESH_MS = 15_000;
const TWITCH_EMBED = 'https://clips.twitch.tv/embed';

const grid = document.getElementById('clips');
const empty = document.getElementById('empty');
const status = document.getElementById('status');
// A live region told only about changes (new clips, failures), not about every quiet refresh.
const announce = document.getElementById('announce');

/** clip_id → { clip, li, media, play, time, abs } */
const cards = new Map();

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absoluteFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const clockFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

function isLocalClip(clip) {
  return clip.clip_id.startsWith('local-');
}

function isTwitchEmbed(url) {
  return url.startsWith(TWITCH_EMBED);
}

function relativeTime(iso) {
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const units = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return relativeFormat.format(seconds, 'second');
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function createCard(clip) {
  const li = element('li', 'card');
  li.dataset.clipId = clip.clip_id;
  li.dataset.kind = isLocalClip(clip) ? 'local' : 'twitch';

  const media = element('div', 'card-media');
  const play = element('button', 'card-play');
  play.type = 'button';
  const img = element('img', 'thumb');
  img.src = clip.thumbnail_url;
  img.alt = isLocalClip(clip)
    ? `Chat activity curve of ${clip.broadcaster_login}`
    : `Thumbnail of ${clip.broadcaster_login}'s clip`;
  img.loading = 'lazy';
  img.decoding = 'async';
  // Thumbnails come from Twitch's CDN; when one cannot load, the card shows the login instead.
  img.addEventListener('error', () => {
    img.remove();
    play.classList.add('no-thumb');
  });
  const placeholder = element('span', 'placeholder', clip.broadcaster_login);
  placeholder.setAttribute('aria-hidden', 'true');
  const icon = element('span', 'play-icon');
  icon.setAttribute('aria-hidden', 'true');
  const badge = element('span', 'badge', isLocalClip(clip) ? 'activity curve' : 'Twitch clip');
  badge.setAttribute('aria-hidden', 'true');
  play.append(placeholder, img, icon, badge);
  media.append(play);

  const meta = element('div', 'card-meta');
  const login = element('span', 'login', clip.broadcaster_login);
  const time = element('time', 'ago');
  time.dateTime = clip.detected_at;
  const abs = element('span', 'abs');
  meta.append(login, time, abs);
  li.append(media, meta);

  const card = { clip, li, media, play, time, abs };
  play.addEventListener('click', () => openPlayer(card));
  li.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && li.classList.contains('playing')) closePlayer(card);
  });
  updateTimes(card);
  return card;
}

function updateTimes(card) {
  const { clip } = card;
  const ago = relativeTime(clip.detected_at);
  const at = absoluteFormat.format(new Date(clip.detected_at));
  card.time.textContent = ago;
  card.time.title = at;
  card.abs.textContent = at;
  const what = isLocalClip(clip) ? 'activity curve' : 'clip';
  card.play.setAttribute('aria-label', `Play ${clip.broadcaster_login}'s ${what} from ${ago} (${at})`);
}

function openPlayer(card) {
  for (const other of cards.values()) {
    if (other !== card && other.li.classList.contains('playing')) closePlayer(other);
  }
  const { clip } = card;
  let player;
  if (isLocalClip(clip)) {
    player = element('img', 'curve');
    player.src = clip.embed_url;
    player.alt = `Chat activity around ${clip.broadcaster_login}'s spike at ${absoluteFormat.format(new Date(clip.detected_at))}`;
  } else if (isTwitchEmbed(clip.embed_url)) {
    const src = new URL(clip.embed_url);
    // Twitch refuses to play an embed whose parent is not the page's host name.
    src.searchParams.set('parent', location.hostname);
    src.searchParams.set('autoplay', 'true');
    player = element('iframe', 'player');
    player.src = src.href;
    player.title = `${clip.broadcaster_login}'s clip`;
    player.allow = 'autoplay; fullscreen';
    player.allowFullscreen = true;
  } else {
    player = element('p', 'unplayable', 'This clip has no player that can be embedded here.');
  }
  const close = element('button', 'close', 'Close');
  close.type = 'button';
  close.setAttribute('aria-label', `Close ${clip.broadcaster_login}'s clip`);
  close.addEventListener('click', () => closePlayer(card));
  card.li.classList.add('playing');
  card.media.replaceChildren(player, close);
  close.focus();
}

function closePlayer(card) {
  card.li.classList.remove('playing');
  card.media.replaceChildren(card.play);
  card.play.focus();
}

/** Shows `clips` in order; returns how many cards are new. */
function render(clips) {
  let added = 0;
  const wanted = new Set(clips.map((c) => c.clip_id));
  for (const [id, card] of cards) {
    // A card being watched stays until it is closed, even if it has left the window.
    if (!wanted.has(id) && !card.li.classList.contains('playing')) {
      card.li.remove();
      cards.delete(id);
    }
  }
  // Walk the list in order, inserting new cards where they belong; cards already in place are
  // never moved, because moving a node would reload a playing iframe.
  let cursor = grid.firstElementChild;
  for (const clip of clips) {
    let card = cards.get(clip.clip_id);
    if (card === undefined) {
      card = createCard(clip);
      cards.set(clip.clip_id, card);
      added++;
    } else {
      updateTimes(card);
    }
    if (card.li === cursor) cursor = cursor.nextElementSibling;
    else grid.insertBefore(card.li, cursor);
  }
  empty.hidden = cards.size > 0;
  grid.hidden = cards.size === 0;
  return added;
}

let loaded = false;
let failing = false;

async function refresh() {
  try {
    const response = await fetch('/v1.0/clip', {
      cache: 'no-store',
      headers: { Accept: 'application/json' },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
    const added = render(body.clips);
    const count = body.clips.length === 1 ? '1 clip' : `${body.clips.length} clips`;
    status.textContent = `${count} · updated ${clockFormat.format(new Date())}`;
    status.classList.remove('error');
    if (loaded && added > 0) announce.textContent = added === 1 ? '1 new clip' : `${added} new clips`;
    loaded = true;
    failing = false;
  } catch (error) {
    status.textContent = `Could not load clips (${error.message}); trying again in ${REFRESH_MS / 1000} s`;
    status.classList.add('error');
    if (!failing) announce.textContent = 'Could not load clips';
    failing = true;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
