//! The words of the list screens that go beyond the shared texts, in Russian and English. Messages with
//! values in them are functions, so both languages say the same thing.

use crate::domain::Lang;

pub struct Words {
    pub refresh: &'static str,
    pub col_created_by: &'static str,
    pub col_progress: &'static str,
    pub count_now: &'static str,
    pub counting: &'static str,
    pub not_counted: &'static str,
    pub no_access: &'static str,
    pub no_access_hint: &'static str,
    pub your_change: &'static str,
    pub nothing_chosen: &'static str,
    pub remove_chip: &'static str,
    pub add: &'static str,
    pub added: &'static str,
    pub in_list: &'static str,
    pub find_people: &'static str,
    pub paste_label: &'static str,
    pub paste_hint: &'static str,
    pub find: &'static str,
    pub replace_label: &'static str,
    pub form_label: &'static str,
    pub form_keep_prefix: &'static str,
    pub form_none: &'static str,
    pub show_inactive: &'static str,
    pub inactive_forms: &'static str,
    pub status_all: &'static str,
    pub status_filter: &'static str,
    pub filter_title: &'static str,
    pub filter_responsible: &'static str,
    pub filter_anyone: &'static str,
    pub filter_company: &'static str,
    pub filter_source: &'static str,
    pub filter_any_source: &'static str,
    pub filter_created: &'static str,
    pub filter_from: &'static str,
    pub filter_to: &'static str,
    pub filter_apply: &'static str,
    pub done: &'static str,
    pub successful: &'static str,
    pub remaining: &'static str,
    pub rights_title: &'static str,
    pub no_read_contacts: &'static str,
    pub no_read_companies: &'static str,
    pub review_create: &'static str,
    pub search_hint: &'static str,
    pub placement_menu_title: &'static str,
    pub placement_tab_title: &'static str,
    pub placement_in_lists: &'static str,
    pub placement_in_none: &'static str,
    pub placement_take_out: &'static str,
    pub placement_add_to_another: &'static str,
    pub placement_choose: &'static str,
    pub placement_put_in: &'static str,
    pub placement_new_list: &'static str,
    pub placement_no_other: &'static str,
}

pub const EN: Words = Words {
    refresh: "Refresh",
    col_created_by: "Created by",
    col_progress: "Calls",
    count_now: "Count",
    counting: "counting…",
    not_counted: "not counted yet",
    no_access: "no access",
    no_access_hint: "You may not read this kind of record in the CRM",
    your_change: "Your change",
    nothing_chosen: "Nothing chosen yet: search by name, pick in the CRM, paste phones or e-mails, or tick members below to remove them.",
    remove_chip: "Take out of the change",
    add: "Add",
    added: "chosen",
    in_list: "in the list",
    find_people: "Find people",
    paste_label: "Paste phones, e-mails or IDs",
    paste_hint: "One per line, or separated by commas.",
    find: "Find",
    replace_label: "Replace the whole list with the chosen ones",
    form_label: "Web form",
    form_keep_prefix: "Keep",
    form_none: "No form",
    show_inactive: "Show inactive forms",
    inactive_forms: "Inactive forms",
    status_all: "All statuses",
    status_filter: "Show",
    filter_title: "Pick by CRM filter",
    filter_responsible: "Responsible",
    filter_anyone: "Anyone",
    filter_company: "Company (name or ID)",
    filter_source: "Source",
    filter_any_source: "Any source",
    filter_created: "Created",
    filter_from: "from",
    filter_to: "to",
    filter_apply: "Show matches",
    done: "called",
    successful: "successful",
    remaining: "to call",
    rights_title: "No access to the CRM records",
    no_read_contacts: "You may not read contacts in the CRM, so the members of this list are hidden from you and you cannot change it. Ask your portal administrator for access to contacts.",
    no_read_companies: "You may not read companies in the CRM, so the members of this list are hidden from you and you cannot change it. Ask your portal administrator for access to companies.",
    review_create: "Review the new list",
    search_hint: "Results appear as you type.",
    placement_menu_title: "Add to a call list",
    placement_tab_title: "Call lists",
    placement_in_lists: "In these call lists",
    placement_in_none: "Not in any call list yet.",
    placement_take_out: "Take out",
    placement_add_to_another: "Add to another call list",
    placement_choose: "Choose a call list",
    placement_put_in: "Add here",
    placement_new_list: "New call list with them",
    placement_no_other: "No other call list of this kind.",
};

pub const RU: Words = Words {
    refresh: "Обновить",
    col_created_by: "Кто создал",
    col_progress: "Обзвон",
    count_now: "Посчитать",
    counting: "считаем…",
    not_counted: "ещё не посчитано",
    no_access: "нет доступа",
    no_access_hint: "У вас нет прав на просмотр таких записей в CRM",
    your_change: "Ваше изменение",
    nothing_chosen: "Пока ничего не выбрано: найдите по имени, выберите в CRM, вставьте телефоны или e-mail либо отметьте участников ниже, чтобы удалить их.",
    remove_chip: "Убрать из изменения",
    add: "Добавить",
    added: "выбран",
    in_list: "уже в списке",
    find_people: "Поиск",
    paste_label: "Вставьте телефоны, e-mail или ID",
    paste_hint: "По одному в строке или через запятую.",
    find: "Найти",
    replace_label: "Заменить весь список выбранными",
    form_label: "CRM-форма",
    form_keep_prefix: "Оставить",
    form_none: "Без формы",
    show_inactive: "Показать неактивные формы",
    inactive_forms: "Неактивные формы",
    status_all: "Все статусы",
    status_filter: "Показать",
    filter_title: "Выбор по фильтру CRM",
    filter_responsible: "Ответственный",
    filter_anyone: "Любой",
    filter_company: "Компания (название или ID)",
    filter_source: "Источник",
    filter_any_source: "Любой источник",
    filter_created: "Создан",
    filter_from: "с",
    filter_to: "по",
    filter_apply: "Показать подходящих",
    done: "обзвонено",
    successful: "успешно",
    remaining: "осталось",
    rights_title: "Нет доступа к записям CRM",
    no_read_contacts: "У вас нет прав на просмотр контактов в CRM, поэтому участники этого списка скрыты от вас и изменить его нельзя. Попросите у администратора портала доступ к контактам.",
    no_read_companies: "У вас нет прав на просмотр компаний в CRM, поэтому участники этого списка скрыты от вас и изменить его нельзя. Попросите у администратора портала доступ к компаниям.",
    review_create: "Проверить новый список",
    search_hint: "Результаты появляются по мере ввода.",
    placement_menu_title: "Добавить в список обзвона",
    placement_tab_title: "Списки обзвона",
    placement_in_lists: "В этих списках обзвона",
    placement_in_none: "Пока нет ни в одном списке обзвона.",
    placement_take_out: "Убрать",
    placement_add_to_another: "Добавить в другой список обзвона",
    placement_choose: "Выберите список обзвона",
    placement_put_in: "Добавить сюда",
    placement_new_list: "Новый список обзвона с ним",
    placement_no_other: "Других списков обзвона этого типа нет.",
};

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

/// "1,000" in English, "1 000" in Russian.
pub fn number(lang: Lang, n: u64) -> String {
    let digits = n.to_string();
    let sep = match lang {
        Lang::En => ',',
        Lang::Ru => '\u{a0}',
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// How long ago a count was made.
pub fn age(lang: Lang, secs: i64) -> String {
    let mins = secs.max(0) / 60;
    match (lang, mins) {
        (Lang::En, 0) => "counted just now".into(),
        (Lang::En, 1) => "counted a minute ago".into(),
        (Lang::En, m) => format!("counted {m} minutes ago"),
        (Lang::Ru, 0) => "посчитано только что".into(),
        (Lang::Ru, m) => format!("посчитано {m} мин назад"),
    }
}

/// "50+" while a list is not counted, in both languages.
pub fn at_least(lang: Lang, n: u64) -> String {
    format!("{}+", number(lang, n))
}

/// The save's summary: what changed, in words.
pub fn saved(lang: Lang, added: usize, removed: usize, total: usize, form: Option<(String, String)>) -> String {
    let members = match (lang, added, removed) {
        (_, 0, 0) => None,
        (Lang::En, a, r) => Some(format!("{a} added, {r} removed; the list now has {total} members you can see.")),
        (Lang::Ru, a, r) => {
            Some(format!("Добавлено: {a}, удалено: {r}. Сейчас в списке видимых вам участников: {total}."))
        }
    };
    let form = form.map(|(before, after)| match lang {
        Lang::En => format!("The web form changed from {before} to {after}."),
        Lang::Ru => format!("CRM-форма изменена: была {before}, стала {after}."),
    });
    let head = match lang {
        Lang::En => "Saved.",
        Lang::Ru => "Сохранено.",
    };
    [Some(head.to_owned()), members, form].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

/// For an administrator: the app's places in the CRM could not all be bound.
pub fn placements_refused(lang: Lang, code: &str) -> String {
    match lang {
        Lang::En => format!(
            "The app could not add itself to the CRM's contact and company lists and cards (Bitrix24 answered {code}). It still works from its own menu item; reinstall it once it may add placements (the “placement” permission)."
        ),
        Lang::Ru => format!(
            "Приложению не удалось встроиться в списки и карточки контактов и компаний CRM (ответ Битрикс24: {code}). Оно по-прежнему работает из своего пункта меню; переустановите его, когда у него будет право встраиваться (разрешение «placement»)."
        ),
    }
}

/// A contact filter named a company that is not there (or not visible to the viewer).
pub fn no_company(lang: Lang, name: &str) -> String {
    match lang {
        Lang::En => format!(
            "No company you can see in the CRM has “{name}” in its name. Check the name, or give the company's ID."
        ),
        Lang::Ru => format!(
            "В CRM нет доступной вам компании, в названии которой есть «{name}». Проверьте название или укажите ID компании."
        ),
    }
}

/// A contact filter named a company in words that fit too many to be meant.
pub fn too_many_companies(lang: Lang, name: &str, cap: usize) -> String {
    match lang {
        Lang::En => format!("“{name}” fits {cap} companies or more. Type more of the name, or give the company's ID."),
        Lang::Ru => {
            format!("Под «{name}» подходят {cap} компаний или больше. Уточните название или укажите ID компании.")
        }
    }
}

/// What a paste found nothing for.
pub fn unmatched(lang: Lang, values: &[String]) -> String {
    let shown = values.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
    match lang {
        Lang::En => format!("Not found in the CRM ({}): {shown}", values.len()),
        Lang::Ru => format!("Не найдены в CRM ({}): {shown}", values.len()),
    }
}

/// Everyone named was hidden or unknown, so the change would change nothing.
pub fn all_hidden(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => format!(
            "None of the {n} you chose can be added: they do not exist, are of the other type, or you may not see them in the CRM. Nothing would change."
        ),
        Lang::Ru => format!(
            "Никого из выбранных ({n}) добавить нельзя: их нет, они другого типа или скрыты от вас в CRM. Ничего не изменится."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_the_way_each_language_writes_them() {
        assert_eq!(number(Lang::En, 1_000), "1,000");
        assert_eq!(number(Lang::Ru, 10_000), "10\u{a0}000");
        assert_eq!(number(Lang::En, 999), "999");
    }

    #[test]
    fn a_form_only_save_says_what_changed() {
        let s = saved(Lang::En, 0, 0, 5, Some(("«A»".into(), "«B»".into())));
        assert!(!s.contains("0 added") && s.contains("«B»"), "{s}");
    }
}
