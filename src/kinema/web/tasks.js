// kinema playground: the live task list. Loaded before app.js.
"use strict";

const notes = JSON.parse(localStorage.getItem("kinema.notes") || "{}");

function remember(id, prompt, what) {
  notes[id] = { prompt, what };
  localStorage.setItem("kinema.notes", JSON.stringify(notes));
}

function upsertTask(t) {
  let entry = state.tasks.get(t.task_id);
  if (!entry) {
    const li = document.createElement("li");
    li.className = "task";
    li.dataset.taskId = t.task_id;
    li.innerHTML = `<div class="head"><span class="id"></span><span class="pill"></span></div>` +
      `<div class="what"></div><div class="bar"><span></span></div>` +
      `<p class="msg" hidden></p><div class="media"></div>`;
    const list = $("#task-list");
    const after = [...list.children].find((el) => el.dataset.taskId < t.task_id);
    list.insertBefore(li, after || null);
    entry = { el: li, status: null };
    state.tasks.set(t.task_id, entry);
    $("#no-tasks").hidden = true;
  }
  const el = entry.el;
  const note = notes[t.task_id];
  const progress = t.task_status === "succeed" ? 100 : (t.task_progress || 0);
  el.dataset.status = t.task_status;
  el.querySelector(".id").textContent = t.task_id;
  el.querySelector(".what").textContent = note ? `${note.prompt} — ${note.what}` : (t.task_info?.external_task_id || "");
  el.querySelector(".what").title = el.querySelector(".what").textContent;
  const pill = el.querySelector(".pill");
  pill.className = `pill ${t.task_status}`;
  pill.textContent = t.task_status === "processing" ? `processing ${progress}%` : t.task_status;
  el.querySelector(".bar span").style.width = `${progress}%`;
  el.querySelector(".bar").hidden = t.task_status === "succeed" || t.task_status === "failed";
  const msg = el.querySelector(".msg");
  msg.textContent = t.task_status_msg || "";
  msg.hidden = !(t.task_status === "failed" && t.task_status_msg);
  const videos = (t.task_result && t.task_result.videos) || [];
  if (t.task_status === "succeed" && videos.length && entry.status !== "succeed") {
    const v = videos[0];
    el.querySelector(".media").innerHTML =
      `<video controls muted loop playsinline preload="metadata"></video>` +
      `<div class="links"><span class="muted">${v.duration} s</span><a download>Download MP4</a></div>`;
    el.querySelector("video").src = v.url;
    const a = el.querySelector("a");
    a.href = v.url;
    a.setAttribute("download", `${t.task_id}.mp4`);
  }
  entry.status = t.task_status;
}

async function poll() {
  state.pollTimer = null;
  let active = false;
  try {
    const tasks = await api(`${API}?pageNum=1&pageSize=20`, { method: "GET" });
    needKey(false);
    tasks.forEach(upsertTask);
    active = tasks.some((t) => t.task_status === "submitted" || t.task_status === "processing");
  } catch (e) {
    if (e.status !== 401) $("#tasks-note").textContent = e.message;
  }
  schedulePoll(active ? 1000 : 5000);
}

function schedulePoll(ms) {
  if (state.pollTimer) clearTimeout(state.pollTimer);
  state.pollTimer = setTimeout(poll, ms);
}
