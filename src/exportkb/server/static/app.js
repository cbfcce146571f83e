// exportkb web page: the few behaviours that need a script (the page works without it).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.expand").forEach(function (b) {
    b.addEventListener("click", function () {
      var open = b.getAttribute("data-open") === "1";
      document.querySelectorAll("section.proof details").forEach(function (d) { d.open = open; });
    });
  });
  var up = document.getElementById("upload"), ta = document.getElementById("yaml");
  if (up && ta) {
    up.addEventListener("change", function () {
      var f = up.files && up.files[0];
      if (!f) { return; }
      if (f.size > 1024 * 1024) { alert("A case file may be at most 1 MB here."); return; }
      var r = new FileReader();
      r.onload = function () { ta.value = String(r.result); };
      r.readAsText(f);
    });
  }
  var edit = document.getElementById("edit"), text = document.getElementById("case-text");
  if (edit && text) {
    edit.addEventListener("click", function (e) {
      e.preventDefault();
      var f = document.createElement("form");
      f.method = "post"; f.action = "/check";
      var t = document.createElement("textarea"); t.name = "yaml"; t.value = text.textContent;
      f.appendChild(t); f.style.display = "none"; document.body.appendChild(f);
      var box = document.createElement("textarea"); box.rows = 20; box.value = text.textContent; box.className = "edit-box";
      var go = document.createElement("button"); go.type = "button"; go.textContent = "Check the edited case";
      go.addEventListener("click", function () { t.value = box.value; f.submit(); });
      edit.parentNode.after(box); box.after(go); edit.remove();
    });
  }
});
