// The audience builder: renders the criteria tree from its JSON (passed with json_script as
// "builder-config"), keeps the hidden "criteria" field in step, asks for a live size estimate,
// and polls the ingestion gate while Salesforce filters are locked. A static file, so the
// Content-Security-Policy needs no 'unsafe-inline'.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("builder-config").textContent);
  const form = document.getElementById("builder-form");
  const root = document.getElementById("criteria-root");
  const hidden = form.querySelector("[name=criteria]");
  const holdsSelect = form.querySelector("[name=holds]");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  let locked = cfg.gate.locked;
  let tree = normalise(cfg.criteria);
  let timer = null, seq = 0;

  // The stored tree as it is (a group whose "type" may be implicit); anything else is empty.
  function normalise(raw) {
    if (typeof raw === "string") { try { raw = JSON.parse(raw); } catch (e) { raw = null; } }
    if (!raw || typeof raw !== "object" || Array.isArray(raw) || (raw.type && raw.type !== "group")) {
      return {type: "group", match: "all", children: []};
    }
    if (!Array.isArray(raw.children)) raw.children = [];
    return raw;
  }
  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "on") Object.entries(v).forEach(([e, f]) => node.addEventListener(e, f));
      else if (k === "class") node.className = v;
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    });
    kids.flat().forEach((k) => node.append(k instanceof Node ? k : document.createTextNode(k)));
    return node;
  }
  function select(options, value, onChange, attrs) {
    const s = el("select", attrs || {}, options.map(([v, label]) => el("option", {value: v, selected: String(v) === String(value)}, label)));
    s.addEventListener("change", () => onChange(s.value, s));
    return s;
  }
  function fieldsOf(obj) { return cfg.fields[obj] || []; }
  function fieldInfo(obj, name) { return fieldsOf(obj).find((f) => f.name === name); }
  function changed() { render(); schedule(); }

  function newCondition(obj) {
    const f = fieldsOf(obj)[0];
    return {type: "condition", object: obj, field: f ? f.name : "", operator: "is_known", value: null};
  }
  // cond: the condition as shown (with its object); target: the tree node that gets the value.
  function valueEditor(cond, info, target) {
    const op = cond.operator;
    if (!info || cfg.no_value.includes(op)) return el("span");
    const set = (v) => { target.value = v; cond.value = v; schedule(); sync(); };
    if (op === "between") {
      const type = info.kind === "date" ? "date" : "number";
      const v = Array.isArray(cond.value) ? cond.value : ["", ""];
      const a = el("input", {type, value: v[0] ?? "", "aria-label": "from", class: "value-input short"});
      const b = el("input", {type, value: v[1] ?? "", "aria-label": "to", class: "value-input short"});
      const upd = () => set([a.value, b.value]);
      a.addEventListener("input", upd); b.addEventListener("input", upd);
      return el("span", {class: "row"}, a, " and ", b);
    }
    if (op === "in_last_n_days") {
      const i = el("input", {type: "number", min: 1, value: cond.value ?? 90, class: "value-input short", "aria-label": "days"});
      i.addEventListener("input", () => set(i.value));
      return el("span", {class: "row"}, i, " days");
    }
    const isCampaign = isCampaignField(cond.object, info.name);
    const picklist = (info.picklist || []).map((p) => [p, p]);
    // Campaigns, list operators on picklists and one-value operators on a picklist longer
    // than a page: a search over every value (the server's values endpoint), not a select.
    const searched = isCampaign || picklist.length > cfg.values_page_size;
    if ((isCampaign || picklist.length) && cfg.list_value.includes(op)) {
      return picker(cond.object, info.name, Array.isArray(cond.value) ? cond.value : [], true, (vals) => set(vals));
    }
    if (searched && (op === "equals" || op === "not_equals")) {
      const one = cond.value === null || cond.value === undefined || cond.value === "" ? [] : [cond.value];
      return picker(cond.object, info.name, one, false, (vals) => set(vals.length ? vals[0] : null));
    }
    if (picklist.length && (op === "equals" || op === "not_equals")) {
      return select(picklist, cond.value, (v) => set(v), {class: "value-input", "aria-label": "value"});
    }
    const type = info.kind === "number" ? "number" : info.kind === "date" ? "date" : "text";
    const listy = cfg.list_value.includes(op);
    const shown = listy && Array.isArray(cond.value) ? cond.value.join(", ") : (cond.value ?? "");
    const i = el("input", {type: listy ? "text" : type, value: shown, class: "value-input", "aria-label": "value",
                           placeholder: listy ? "comma-separated" : ""});
    i.addEventListener("input", () => set(listy ? i.value.split(",").map((x) => x.trim()).filter(Boolean) : i.value));
    return i;
  }
  // Rendering never changes the tree (an unchanged save stores what was loaded): defaults
  // are set when the customer changes a field or an operator, not when a row is drawn.
  function withDefault(cond, obj) {
    const info = fieldInfo(obj, cond.field);
    if (!info) return;
    const picklist = info.picklist || [];
    if (cond.operator === "in_last_n_days") cond.value = 90;
    else if (picklist.length && (cond.operator === "equals" || cond.operator === "not_equals")) cond.value = picklist[0];
  }
  function isCampaignField(obj, field) { return obj === "CampaignMember" && field === "CampaignId"; }
  function labelOf(v) { return cfg.value_labels[v] || String(v); }
  let pickers = 0;
  // A searchable picker (the ARIA combobox pattern): a search box whose list of results comes a
  // page at a time from the values endpoint; the chosen values are chips with a remove button.
  // Up/Down move through the results, Enter picks, Escape closes; "multi" keeps it open to pick
  // more. Chosen values are kept as they were loaded (order and all), so an unchanged save
  // stores the same criteria whatever page of results they are on.
  function picker(obj, field, initial, multi, onChange) {
    const chosen = [...initial];
    const id = `picker-${++pickers}`;
    const chips = el("ul", {class: "chips", "aria-label": "chosen values"});
    const input = el("input", {type: "search", class: "value-input picker-search", role: "combobox", autocomplete: "off",
                               "aria-label": multi ? "search values" : "search value", "aria-expanded": "false",
                               "aria-controls": `${id}-list`, "aria-autocomplete": "list",
                               placeholder: multi ? "Search to add…" : "Search…"});
    const list = el("ul", {class: "picker-results", role: "listbox", id: `${id}-list`, hidden: true,
                           "aria-multiselectable": multi ? "true" : null});
    const more = el("button", {type: "button", class: "btn btn-quiet picker-more", hidden: true}, "More results");
    const status = el("span", {class: "small muted picker-status", "aria-live": "polite"});
    let results = [], active = -1, page = 1, query = "", wait = null, asked = 0;

    function drawChips() {
      chips.replaceChildren(...chosen.map((v) => el("li", {class: "chip"}, el("span", {}, labelOf(v)),
        el("button", {type: "button", class: "chip-remove", "aria-label": `Remove ${labelOf(v)}`,
                      on: {click: () => { remove(v); input.focus(); }}}, "✕"))));
      chips.hidden = !chosen.length;
    }
    function remove(v) { chosen.splice(chosen.indexOf(v), 1); changedChoice(); }
    function changedChoice() { drawChips(); drawResults(); onChange([...chosen]); }
    function pick(i) {
      const [v, label] = results[i];
      cfg.value_labels[v] = label;
      if (chosen.includes(v)) { remove(v); return; }
      if (!multi) chosen.splice(0, chosen.length);
      chosen.push(v);
      changedChoice();
      if (!multi) close();
    }
    function drawResults() {
      list.replaceChildren(...results.map(([v, label], i) => el("li", {
        role: "option", id: `${id}-opt-${i}`, class: "picker-option" + (i === active ? " active" : ""),
        "aria-selected": chosen.includes(v) ? "true" : "false",
        on: {mousedown: (e) => e.preventDefault(), click: () => { active = i; pick(i); }}}, label)));
      if (active >= 0 && results[active]) {
        input.setAttribute("aria-activedescendant", `${id}-opt-${active}`);
        list.children[active].scrollIntoView({block: "nearest"});
      } else input.removeAttribute("aria-activedescendant");
    }
    function open() { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
    function close() {
      list.hidden = true; more.hidden = true; active = -1; status.textContent = "";
      input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
    }
    async function load(append) {
      const mine = ++asked;
      const params = new URLSearchParams({connection: cfg.connection, object: obj, field, q: query, page});
      const res = await fetch(`${cfg.values_url}?${params}`, {credentials: "same-origin"});
      const data = await res.json().catch(() => ({errors: [`The search failed (${res.status}).`]}));
      if (mine !== asked) return;
      if (!res.ok) { results = []; status.textContent = (data.errors || []).join(" "); drawResults(); return; }
      results = append ? results.concat(data.results) : data.results;
      more.hidden = !data.has_more;
      status.textContent = results.length ? "" : "No matches.";
      open();
      drawResults();
    }
    function search() { query = input.value.trim(); page = 1; active = -1; load(false); }
    input.addEventListener("input", () => { clearTimeout(wait); wait = setTimeout(search, 200); });
    input.addEventListener("focus", () => { if (list.hidden) search(); });
    input.addEventListener("blur", () => setTimeout(() => { if (!list.contains(document.activeElement) && document.activeElement !== more) close(); }, 150));
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { search(); return; }
        const step = e.key === "ArrowDown" ? 1 : -1;
        active = Math.max(0, Math.min(results.length - 1, active + step));
        drawResults();
      } else if (e.key === "Enter") {
        e.preventDefault();  // never submits the form from the search box
        if (!list.hidden && active >= 0) pick(active);
      } else if (e.key === "Escape" && !list.hidden) {
        e.preventDefault(); close();
      } else if (e.key === "Backspace" && !input.value && chosen.length) {
        remove(chosen[chosen.length - 1]);
      }
    });
    more.addEventListener("mousedown", (e) => e.preventDefault());  // keeps focus in the search box
    more.addEventListener("click", () => { page += 1; load(true); input.focus(); });
    drawChips();
    return el("div", {class: "picker", role: "group", "aria-label": multi ? "values" : "value"},
      chips, input, status, list, more);
  }
  function conditionRow(cond, objects, onRemove, fixedObject) {
    const obj = fixedObject || cond.object;
    const info = fieldInfo(obj, cond.field);
    const objectSel = objects.length > 1
      ? select(objects.map((o) => [o, o]), obj, (v) => { Object.assign(cond, newCondition(v)); changed(); }, {"aria-label": "object"})
      : el("span", {class: "badge badge-idle"}, obj);
    const fieldSel = select(fieldsOf(obj).map((f) => [f.name, f.label]), cond.field,
      (v) => { cond.field = v; cond.operator = "is_known"; cond.value = null; changed(); }, {"aria-label": "field", class: "field-select"});
    const ops = info ? cfg.operators[info.kind] : [];
    const opSel = select(ops.map((o) => [o, cfg.operator_labels[o]]), cond.operator,
      (v) => { cond.operator = v; cond.value = null; withDefault(cond, obj); changed(); }, {"aria-label": "operator"});
    return el("div", {class: "condition row"}, objectSel, fieldSel, opSel, valueEditor({...cond, object: obj}, info, cond),
      el("button", {type: "button", class: "btn btn-quiet", title: "Remove", on: {click: onRemove}}, "✕"));
  }
  function relatedBlock(node, onRemove) {
    const title = node.object === "Opportunity" ? "Has an opportunity (at their account) where all of:" : "Is a campaign member where all of:";
    return el("div", {class: "related"},
      el("div", {class: "spread"}, el("strong", {}, title),
        el("button", {type: "button", class: "btn btn-quiet", on: {click: onRemove}}, "✕")),
      node.conditions.map((c, i) => conditionRow(c, [node.object], () => { node.conditions.splice(i, 1); changed(); }, node.object)),
      el("button", {type: "button", class: "btn btn-quiet", on: {click: () => { node.conditions.push(newCondition(node.object)); changed(); }}}, "+ condition"));
  }
  function groupBlock(group, depth, onRemove) {
    const objects = cfg.objects[holdsSelect.value] || cfg.filter_objects;
    const add = (node) => () => { group.children.push(node()); changed(); };
    return el("div", {class: "group" + (depth ? " nested" : "")},
      el("div", {class: "row"}, "Match ",
        select([["all", "all"], ["any", "any"]], group.match || "all", (v) => { group.match = v; changed(); }, {"aria-label": "match"}),
        " of these", onRemove ? el("button", {type: "button", class: "btn btn-quiet", on: {click: onRemove}}, "✕ group") : ""),
      group.children.map((child, i) => {
        const remove = () => { group.children.splice(i, 1); changed(); };
        if (child.type === "group") return groupBlock(child, depth + 1, remove);
        if (child.type === "related") return relatedBlock(child, remove);
        return conditionRow(child, objects, remove);
      }),
      group.children.length ? "" : el("p", {class: "muted small"}, "No filters yet: add one, or use only CSV lists."),
      el("div", {class: "row adders"},
        el("button", {type: "button", class: "btn", id: depth ? null : "add-condition", on: {click: add(() => newCondition(objects[0]))}}, "+ Condition"),
        depth < 2 ? el("button", {type: "button", class: "btn", on: {click: add(() => ({type: "group", match: "any", children: [newCondition(objects[0])]}))}}, "+ Group") : "",
        el("button", {type: "button", class: "btn", on: {click: add(() => ({type: "related", object: "Opportunity", conditions: [newCondition("Opportunity")]}))}}, "+ Opportunity"),
        el("button", {type: "button", class: "btn", on: {click: add(() => ({type: "related", object: "CampaignMember", conditions: [{type: "condition", object: "CampaignMember", field: "CampaignId", operator: "any_of", value: []}]}))}}, "+ Campaign membership")));
  }
  function sync() { hidden.value = tree.children.length ? JSON.stringify(tree) : "{}"; }
  function render() {
    root.replaceChildren(groupBlock(tree, 0, null));
    root.classList.toggle("locked", locked);
    root.querySelectorAll("button, select, input").forEach((c) => { c.disabled = locked; });
    sync();
  }
  function ids(name) { return [...form.querySelectorAll(`[name=${name}]:checked`)].map((c) => Number(c.value)); }
  function schedule() { clearTimeout(timer); timer = setTimeout(estimate, 250); }
  async function estimate() {
    sync();
    const mine = ++seq;
    const body = {connection: cfg.connection, holds: holdsSelect.value, criteria: locked ? {} : JSON.parse(hidden.value),
                  include: ids("include"), exclude: ids("exclude")};
    const res = await fetch(cfg.estimate_url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                                               body: JSON.stringify(body), credentials: "same-origin"});
    // A refusal (400 with reasons) is JSON; anything else (a 404 page, a lost connection)
    // shows as no estimate rather than an error in the console.
    const data = await res.json().catch(() => ({errors: [`The estimate failed (${res.status}).`]}));
    if (mine !== seq) return;
    const total = document.getElementById("estimate-total");
    const breakdown = document.getElementById("estimate-breakdown");
    const errors = document.getElementById("estimate-errors");
    errors.replaceChildren(...(data.errors || []).map((e) => el("div", {class: "errorlist"}, e)));
    if (data.total === undefined) { total.textContent = "—"; breakdown.replaceChildren(); return; }
    total.textContent = data.total.toLocaleString("en-US");
    total.dataset.value = data.total;
    breakdown.replaceChildren(...Object.entries(data.by_object).map(([o, n]) => el("li", {}, `${o}: ${n.toLocaleString("en-US")}`)));
  }
  async function poll() {
    if (!locked) return;
    const res = await fetch(cfg.gate_url, {credentials: "same-origin"});
    const data = await res.json();
    const gate = document.getElementById("gate");
    if (data.locked) {
      document.getElementById("gate-message").textContent = data.message;
      const bar = document.getElementById("gate-bar");
      if (bar && data.percent !== null) bar.value = Math.round(data.percent);
      setTimeout(poll, cfg.poll_ms || 3000);
      return;
    }
    locked = false;
    gate.className = "alert alert-ok";
    gate.dataset.locked = "false";
    gate.replaceChildren(el("strong", {}, "Salesforce filters are available"), el("span", {id: "gate-message"}, "The initial ingestion has completed."));
    changed();
  }
  const chooser = document.getElementById("id_connection");
  if (chooser) chooser.addEventListener("change", () => chooser.form.submit());
  holdsSelect.addEventListener("change", changed);
  form.querySelectorAll("[name=include], [name=exclude]").forEach((c) => c.addEventListener("change", schedule));
  render();
  estimate();
  if (locked) setTimeout(poll, cfg.poll_ms || 3000);
})();
