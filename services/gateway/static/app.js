// Abc's pages: a live preview of an ad before it is uploaded. Plain JavaScript, no build step;
// the pages work without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-ad");
  const preview = document.getElementById("ad-preview");
  if (!form || !preview) return;
  const img = preview.querySelector("img");
  const text = preview.querySelector(".ad-text");
  const link = preview.querySelector(".ad-link");
  let objectUrl = null;

  const update = () => {
    text.textContent = form.elements.text.value;
    link.textContent = form.elements.link.value;
    const file = form.elements.image.files[0];
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = file ? URL.createObjectURL(file) : null;
    if (objectUrl) img.src = objectUrl; else img.removeAttribute("src");
    preview.hidden = !(form.elements.text.value || file);
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
});
