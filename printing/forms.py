"""Forms of the staff print pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from printing.models import Printer, PrintJob


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *PrintJob.Status.choices]
    )
    printer = forms.ModelChoiceField(
        label=_("Printer"), required=False, queryset=Printer.objects.order_by("name"), empty_label=_("All printers")
    )

    def filter(self, jobs):
        if not self.is_valid():
            return jobs
        if self.cleaned_data["status"]:
            jobs = jobs.filter(status=self.cleaned_data["status"])
        if self.cleaned_data["printer"]:
            jobs = jobs.filter(printer=self.cleaned_data["printer"])
        return jobs
