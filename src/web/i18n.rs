//! The app's words in Russian and English. Pages take a `&Texts` and print its fields; messages with
//! values in them are functions here, so both languages say the same thing.

use crate::domain::Lang;

pub struct Texts {
    pub lang: &'static str,
    pub app_name: &'static str,
    pub install_title: &'static str,
    pub install_done: &'static str,
    pub install_next: &'static str,
    pub install_page_get: &'static str,
    pub error_title: &'static str,
    pub reopen_hint: &'static str,
    pub oauth_done_title: &'static str,
    pub oauth_done: &'static str,
    pub signed_in_as: &'static str,
    pub portal: &'static str,
    pub needs_reauth_banner: &'static str,
    pub reauthorise: &'static str,
    // Errors of the front door.
    pub err_bad_form: &'static str,
    pub err_unknown_portal: &'static str,
    pub err_token_refused: &'static str,
    pub err_session: &'static str,
    pub err_csrf: &'static str,
    pub err_install_unverified: &'static str,
    pub err_portal_unreachable: &'static str,
    pub err_internal: &'static str,
    pub err_not_found: &'static str,
}

pub const EN: Texts = Texts {
    lang: "en",
    app_name: "Call lists",
    install_title: "Installing Call lists",
    install_done: "The app is installed on this portal.",
    install_next: "Bitrix24 will now open the app.",
    install_page_get: "This is the app's install page. Bitrix24 opens it when an administrator installs the app.",
    error_title: "Something went wrong",
    reopen_hint: "Open the app again from the Bitrix24 menu. If it keeps happening, ask your portal administrator.",
    oauth_done_title: "Access renewed",
    oauth_done: "The app can work with this portal again. You can close this page.",
    signed_in_as: "Signed in as",
    portal: "Portal",
    needs_reauth_banner: "The app has lost its access to this portal. An administrator must renew it.",
    reauthorise: "Renew access",
    err_bad_form: "Bitrix24 sent an incomplete request",
    err_unknown_portal: "The app is not installed on this portal. Ask an administrator to install it from the Bitrix24 Market.",
    err_token_refused: "Bitrix24 did not confirm who you are. Your sign-in may have expired.",
    err_session: "Your session has ended.",
    err_csrf: "This page has expired. Reload the app and try again.",
    err_install_unverified: "The installation could not be confirmed with Bitrix24.",
    err_portal_unreachable: "Bitrix24 is not answering right now. Try again in a minute.",
    err_internal: "An unexpected error occurred on the app's server.",
    err_not_found: "This page does not exist.",
};

pub const RU: Texts = Texts {
    lang: "ru",
    app_name: "Списки обзвона",
    install_title: "Установка приложения «Списки обзвона»",
    install_done: "Приложение установлено на портал.",
    install_next: "Сейчас Битрикс24 откроет приложение.",
    install_page_get: "Это страница установки приложения. Битрикс24 открывает её, когда администратор устанавливает приложение.",
    error_title: "Что-то пошло не так",
    reopen_hint: "Откройте приложение заново из меню Битрикс24. Если ошибка повторяется, обратитесь к администратору портала.",
    oauth_done_title: "Доступ восстановлен",
    oauth_done: "Приложение снова может работать с порталом. Эту страницу можно закрыть.",
    signed_in_as: "Вы вошли как",
    portal: "Портал",
    needs_reauth_banner: "Приложение потеряло доступ к порталу. Администратору нужно его восстановить.",
    reauthorise: "Восстановить доступ",
    err_bad_form: "Битрикс24 прислал неполный запрос",
    err_unknown_portal: "Приложение не установлено на этот портал. Попросите администратора установить его из Маркета Битрикс24.",
    err_token_refused: "Битрикс24 не подтвердил, кто вы. Возможно, срок входа истёк.",
    err_session: "Сеанс работы завершён.",
    err_csrf: "Страница устарела. Перезагрузите приложение и повторите действие.",
    err_install_unverified: "Не удалось подтвердить установку в Битрикс24.",
    err_portal_unreachable: "Битрикс24 сейчас не отвечает. Повторите через минуту.",
    err_internal: "На сервере приложения произошла непредвиденная ошибка.",
    err_not_found: "Такой страницы нет.",
};

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}
