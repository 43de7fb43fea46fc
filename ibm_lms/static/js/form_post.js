// Submits the platform's id token to the tool, as an OIDC form_post response does.
document.getElementById("form-post").submit();
