// The web client's entry point: signs in with the token from the address
// (`/#token=<jwt>`) or the sign-in form, starts the chat, and comes back to
// the sign-in form, with the reason, when the token is refused or the user
// signs out (which also forgets what this device kept of their messages).

import { ApiError } from './api.js';
import { forgetArchive } from './archive.js';
import { startChat } from './chat.js';
import { forgetToken, keepToken, readClaims, takeToken } from './session.js';

const $ = (id) => document.getElementById(id);
const REFUSED = 'The server refused this token: it is invalid or has expired. Get a new token and sign in again.';
let chat = null;
let signedIn = null; // the user whose chat runs
// The views attach their listeners once per page: a second sign-in in the
// same page starts afresh from a reload (the token is kept for the tab).
let started = false;

function showSignIn(message = '', token = '') {
  $('app').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
  $('token').value = token;
  $('token').focus();
  document.title = 'Sign in · Chat';
}

async function enter(token) {
  const { claims, problem } = readClaims(token);
  if (problem) {
    forgetToken();
    return showSignIn(problem);
  }
  keepToken(token);
  if (started) return location.reload();
  started = true;
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('me').textContent = claims.sub;
  signedIn = claims.sub;
  $('conversation-title').textContent = 'Loading…';
  try {
    chat = await startChat({ token, me: claims.sub, onRefused: leave });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return leave(REFUSED);
    // The gateway is down or failing: keep the token for another try.
    showSignIn(`The chat could not be loaded (${err.message}). Try again in a moment.`, token);
  }
}

function leave(message) {
  chat?.stop();
  chat = null;
  forgetToken();
  showSignIn(message);
}

// Every form is the page's own: none may be sent by the browser and reload
// the page, even one used before the chat has wired its handler.
document.addEventListener('submit', (event) => event.preventDefault(), true);

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) return showSignIn('Paste your token first.');
  enter(token);
});
$('token').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    $('sign-in-form').requestSubmit();
  }
});
// Signing out also forgets the messages this device kept of the user
// (archive.js); a token that expires does not.
$('sign-out').addEventListener('click', () => {
  if (signedIn) forgetArchive(signedIn);
  signedIn = null;
  leave('You are signed out.');
});
// A sign-in link opened in a tab that is already signed in.
window.addEventListener('hashchange', () => {
  if (!location.hash.includes('token=')) return;
  chat?.stop();
  chat = null;
  const fresh = takeToken();
  if (fresh) enter(fresh);
});

const token = takeToken();
if (token) enter(token);
else showSignIn();
