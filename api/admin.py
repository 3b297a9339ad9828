from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from api import services
from api.models import ApiKey, Scope


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=capfirst(gettext_lazy("scopes")),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(Scope.values),
    )
    allowed_origins = forms.CharField(
        label=capfirst(gettext_lazy("allowed web origins")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line, e.g. https://shop.example.com. Empty: no web page may use the key."),
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "printers", "allowed_origins", "rate_per_minute"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_origins"] = "\n".join(self.instance.allowed_origins)

    def clean_allowed_origins(self):
        try:
            return services.origins_clean(self.cleaned_data["allowed_origins"].splitlines())
        except services.ApiKeyError as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "scope_list", "printer_list", "last_used_at", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "key_prefix"]
    filter_horizontal = ["printers"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("printers")

    def get_fields(self, request, obj=None):
        fields = ["name", "scopes", "printers", "allowed_origins", "rate_per_minute"]
        return fields + (["prefix", "created_at", "last_used_at", "revoked_at"] if obj else [])

    @admin.display(description=capfirst(gettext_lazy("key")), ordering="key_prefix")
    def prefix(self, api_key):
        return f"{api_key.key_prefix}…" if api_key.key_prefix else ""

    @admin.display(description=capfirst(gettext_lazy("scopes")))
    def scope_list(self, api_key):
        return ", ".join(api_key.scopes)

    @admin.display(description=capfirst(gettext_lazy("printers")))
    def printer_list(self, api_key):
        return ", ".join(printer.name for printer in api_key.printers.all()) or _("all")

    def save_model(self, request, obj, form, change):
        if not change:
            request._new_api_key = obj.issue()  # shown once by response_add, never stored
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_new_api_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, _("The API key “%(name)s” was added.") % {"name": obj.name}, messages.SUCCESS)
        context = {
            **self.admin_site.each_context(request),
            "title": _("New API key"),
            "opts": self.opts,
            "api_key": obj,
            "key": key,
            "printers_url": request.build_absolute_uri(reverse("api-v1:printer_list")),
            "docs_url": reverse("api-v1:openapi-view"),
        }
        response = TemplateResponse(request, "admin/api/apikey/key_created.html", context)
        add_never_cache_headers(response)  # Cache-Control: no-store among others
        return response

    @admin.action(description=gettext_lazy("Revoke the selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for api_key in keys:
            services.apikey_revoke(api_key=api_key)
            self.log_change(request, api_key, _("Revoked the API key."))
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", len(keys)) % {"count": len(keys)},
            messages.SUCCESS,
        )
