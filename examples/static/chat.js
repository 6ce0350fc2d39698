// The chat page: one WebSocket to /ws/rooms/{room}; every name and text is shown with
// textContent (never innerHTML), so a message is always text, never markup.
const page = document.getElementById("chat");
const list = document.getElementById("messages");
const members = document.getElementById("members");
const input = document.getElementById("text");
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const room = encodeURIComponent(page.dataset.room);
const socket = new WebSocket(`${scheme}//${location.host}/ws/rooms/${room}`);

function show(text, kind) {
  const item = document.createElement("li");
  item.className = kind;
  item.textContent = text;
  list.append(item);
  item.scrollIntoView();
}

function showMessage(m) {
  show(`[${new Date(m.sent * 1000).toLocaleTimeString()}] ${m.author}: ${m.text}`, "message");
}

socket.onmessage = (event) => {
  const data = JSON.parse(event.data);
  if (data.type === "history") data.messages.forEach(showMessage);
  else if (data.type === "message") showMessage(data);
  else if (data.type === "joined" || data.type === "left") {
    show(`${data.user} ${data.type}`, "presence");
    members.textContent = data.members.join(", ");
  } else if (data.type === "error") show(data.errors.map((e) => e.msg).join("; "), "error");
};
socket.onclose = (event) => show(`disconnected (${event.code})`, "error");
document.getElementById("say").onsubmit = (event) => {
  event.preventDefault();
  socket.send(JSON.stringify({ text: input.value }));
  input.value = "";
};
