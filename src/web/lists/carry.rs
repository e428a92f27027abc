//! The state of the list screen as hidden fields, so the review's "Back" returns to the list exactly as the
//! manager left it: who was chosen, the form, the search, the filter, the page and the status shown.

use super::change_form::{ChangeForm, form_value};

pub struct Carry {
    pub add: Vec<u64>,
    pub remove: Vec<u64>,
    pub replace: bool,
    pub form: String,
    pub show_inactive: bool,
    pub q: String,
    pub status: String,
    pub mpage: u64,
    pub f_user: String,
    pub f_company: String,
    pub f_source: String,
    pub f_from: String,
    pub f_to: String,
}

impl Carry {
    pub fn of(f: &ChangeForm) -> Carry {
        Carry {
            add: f.add.iter().map(|i| i.get()).collect(),
            remove: f.remove.iter().map(|i| i.get()).collect(),
            replace: f.replace,
            form: form_value(f.form),
            show_inactive: f.show_inactive,
            q: f.q.clone(),
            status: f.status.clone().unwrap_or_default(),
            mpage: f.mpage,
            f_user: f.filter.responsible.map(|u| u.to_string()).unwrap_or_default(),
            f_company: f.filter.company.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            f_source: f.filter.source.clone().unwrap_or_default(),
            f_from: f.filter.from.clone().unwrap_or_default(),
            f_to: f.filter.to.clone().unwrap_or_default(),
        }
    }
}
