// MediTrack demo: log in, open the live-event socket, subscribe this browser to Web Push.
(function () {
  "use strict";
  const body = document.body;
  const $ = (id) => document.getElementById(id);
  let access = null;
  let socket = null;

  function api(path, options) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (access) headers.Authorization = "Bearer " + access;
    return fetch(path, Object.assign({ headers: headers }, options || {})).then(async (response) => {
      const data = response.status === 204 ? null : await response.json().catch(() => null);
      if (!response.ok) throw new Error((data && (data.detail || JSON.stringify(data))) || response.statusText);
      return data;
    });
  }

  function show(type, data) {
    const item = document.createElement("li");
    item.className = "event";
    item.dataset.type = type;
    const title = document.createElement("strong");
    title.textContent = type + " ";
    const detail = document.createElement("code");
    detail.textContent = JSON.stringify(data);
    item.append(title, detail);
    $("events").prepend(item);
  }

  function websocketUrl() {
    const configured = body.dataset.websocketUrl;
    if (configured) return configured;
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/events/";
  }

  function connect() {
    socket = new WebSocket(websocketUrl());
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: access }));
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "auth.ok") {
        $("socket-state").textContent = "connected";
        body.dataset.live = "connected";
        return;
      }
      show(event.type, event.data);
    };
    socket.onclose = (close) => {
      body.dataset.live = "closed";
      $("socket-state").textContent = close.code === 4401 ? "closed: log in again" : "closed (" + close.code + ")";
    };
  }

  function urlBase64ToBytes(text) {
    const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  async function subscribe() {
    const state = $("push-state");
    state.className = "";
    try {
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("this browser has no Web Push");
      if ((await Notification.requestPermission()) !== "granted") throw new Error("notifications are not allowed");
      const registration = await navigator.serviceWorker.register(body.dataset.swUrl, { scope: body.dataset.scope });
      await navigator.serviceWorker.ready;
      const key = (await api("/api/notifications/vapid-public-key/")).public_key;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: urlBase64ToBytes(key),
      });
      await api("/api/notifications/push-subscriptions/", { method: "POST", body: JSON.stringify(subscription.toJSON()) });
      const profile = await api("/api/auth/profile/");
      if (!profile.reminder_channels.includes("push")) {
        const channels = profile.reminder_channels.concat(["push"]);
        await api("/api/auth/profile/", { method: "PATCH", body: JSON.stringify({ reminder_channels: channels }) });
      }
      state.textContent = "subscribed: due doses arrive as notifications";
    } catch (error) {
      state.className = "error";
      state.textContent = "push not available: " + error.message;
    }
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (message) => {
      if (message.data && message.data.kind === "push") show("push", message.data.payload);
    });
  }

  $("login").addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const form = new FormData(submit.target);
    try {
      const tokens = await api("/api/auth/login/", {
        method: "POST",
        body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
      });
      access = tokens.access;
      const profile = await api("/api/auth/profile/");
      $("who").textContent = profile.username;
      $("login").hidden = true;
      $("controls").hidden = false;
      connect();
    } catch (error) {
      show("error", { detail: error.message });
    }
  });
  $("subscribe").addEventListener("click", subscribe);
})();
