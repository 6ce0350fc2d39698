// New guestbook entries, pushed by the server as server-sent events (GET /events).
// Every value is set with textContent, never innerHTML: an entry is text, whatever it holds.
"use strict";

(function () {
  const list = document.getElementById("entries");
  if (!list || !window.EventSource) {
    return;
  }
  const live = document.getElementById("live");

  function render(entry) {
    if (document.getElementById("entry-" + entry.id)) {
      return; // already on the page
    }
    const item = document.createElement("li");
    item.id = "entry-" + entry.id;
    item.className = "new";
    const author = document.createElement("strong");
    author.textContent = entry.author;
    const time = document.createElement("time");
    time.dateTime = entry.created;
    time.textContent = entry.created;
    const text = document.createElement("p");
    text.textContent = entry.text;
    item.append(author, " ", time, text);
    list.prepend(item);
    const empty = document.getElementById("empty");
    if (empty) {
      empty.remove();
    }
  }

  // The newest entry the page shows: the stream starts after it. On a reconnection the
  // browser sends Last-Event-ID itself, and the server sends what was missed.
  const after = encodeURIComponent(list.dataset.lastId || "0");
  const source = new EventSource("/events?after=" + after);
  source.addEventListener("open", function () {
    live.hidden = false;
  });
  source.addEventListener("error", function () {
    live.hidden = true;
  });
  source.addEventListener("entry", function (event) {
    render(JSON.parse(event.data));
  });
})();
