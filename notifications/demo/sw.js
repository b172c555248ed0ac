// MediTrack demo service worker: shows pushed reminders and opens the confirm link on click.
// The page that registered it is not controlled by it until it claims the page (or the page
// reloads): claim at once, and hand a push to every window of the origin, controlled or not.
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  const payload = event.data ? event.data.json() : { title: "MediTrack", body: "" };
  event.waitUntil(
    Promise.all([
      self.registration.showNotification(payload.title || "MediTrack", {
        body: payload.body || "",
        tag: "dose-" + payload.reminder_id,
        data: { url: payload.confirm_url },
      }),
      self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) =>
        windows.forEach((client) => client.postMessage({ kind: "push", payload: payload }))
      ),
    ])
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data && event.notification.data.url;
  if (url) event.waitUntil(self.clients.openWindow(url));
});
